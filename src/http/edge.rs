//! The guard every request passes before a handler: who the client is, whether its network is
//! allowed, whether it is within its rate, and whether it holds a credential. `/healthz`,
//! `/readyz`, `/openapi.json` and (unless `--metrics-auth`) `/metrics` need no credential and no
//! allowed network (load balancers and scrapers call them), but do count against the rate.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use ipnet::IpNet;

use super::ApiError;
use super::auth::Credentials;
use super::client_addr::{self, ClientAddr};
use super::rate_limit::ClientRateLimit;
use super::routes;

pub struct EdgePolicy {
    pub credentials: Credentials,
    /// Empty: every network may connect.
    pub allowed_networks: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    pub rate_limit: Option<ClientRateLimit>,
    /// The `WWW-Authenticate` challenge for the configured kinds of credential.
    pub challenge: String,
    /// `--metrics-auth`: /metrics is guarded like the API instead of open like the probes.
    pub metrics_need_credentials: bool,
    /// Keys for the admin API; empty when it is off (its routes then do not exist).
    pub admin_credentials: Credentials,
}

impl EdgePolicy {
    fn check(&self, req: &ServiceRequest, client: ClientAddr) -> Result<(), ApiError> {
        // Probes, the metrics scrape and the API description are for infrastructure: open.
        // The path as the router matches it (percent-decoded): `/api/v1/%63ustomers` is the
        // admin API too.
        let path = req.match_info().as_str();
        let probe = if path == routes::METRICS {
            !self.metrics_need_credentials
        } else {
            [routes::HEALTHZ, routes::READYZ, routes::OPENAPI].contains(&path)
                || path == routes::DOCS
                || path.starts_with("/docs/")
        };
        if !probe
            && !self.allowed_networks.is_empty()
            && !client_addr::contains(&self.allowed_networks, client.0)
        {
            return Err(ApiError::ForbiddenNetwork);
        }
        if let Some(limit) = &self.rate_limit {
            limit
                .check(client.0)
                .map_err(|wait| ApiError::RateLimited {
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                })?;
        }
        // The admin API takes admin keys only: lookup credentials must not change customers.
        let admin = path.starts_with(routes::CUSTOMERS) || path == routes::EXPLAIN;
        if admin && !self.admin_credentials.is_empty() {
            return if self.admin_credentials.admit(req.headers()) {
                Ok(())
            } else {
                Err(ApiError::Unauthorized {
                    challenge: r#"Bearer realm="customer-lookup-admin""#.into(),
                })
            };
        }
        if !probe && !self.credentials.is_empty() && !self.credentials.admit(req.headers()) {
            return Err(ApiError::Unauthorized {
                challenge: self.challenge.clone(),
            });
        }
        Ok(())
    }
}

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(policy) = req.app_data::<web::Data<EdgePolicy>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let peer = req
        .peer_addr()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |a| a.ip());
    let client = ClientAddr(client_addr::resolve(
        peer,
        req.headers(),
        &policy.trusted_proxies,
    ));
    req.extensions_mut().insert(client);
    match policy.check(&req, client) {
        // Answered here, as a response (not an `Err`) so the request log still sees it.
        Err(refusal) => Ok(req.error_response(refusal).map_into_right_body()),
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}
