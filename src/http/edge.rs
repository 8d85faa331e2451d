//! The guard every request passes before a handler: who the client is, whether its network is
//! allowed, whether it is within its rate, and whether it holds a credential. `/healthz`,
//! `/readyz`, `/openapi.json` and (unless `--metrics-auth`) `/metrics` need no credential and no
//! allowed network (load balancers and scrapers call them), but do count against the rate.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use ipnet::IpNet;

use super::client_addr::{self, ClientAddr};
use super::live::LiveEdge;
use super::rate_limit::ClientRateLimit;
use super::routes;
use super::{ApiError, VerifiedClientCertificate};
use crate::settings::{ClientCertMode, EdgeSettings, ForwardedHeader};

pub struct EdgePolicy {
    /// The credentials and networks in force (SIGHUP replaces them).
    pub live: Arc<LiveEdge>,
    /// Lookup keys or passwords are configured; an empty set then admits nobody.
    pub lookup_needs_credentials: bool,
    /// The admin API is on and takes admin keys only.
    pub admin_needs_credentials: bool,
    /// An allowlist is configured; otherwise every network may connect.
    pub restrict_networks: bool,
    /// `--client-cert-mode optional`: a verified client certificate admits a lookup by itself.
    pub certificate_admits: bool,
    pub trusted_proxies: Vec<IpNet>,
    pub forwarded_header: ForwardedHeader,
    pub rate_limit: Option<ClientRateLimit>,
    /// The `WWW-Authenticate` challenge for the configured kinds of credential.
    pub challenge: String,
    /// `--metrics-auth`: /metrics is guarded like the API instead of open like the probes.
    pub metrics_need_credentials: bool,
}

impl EdgePolicy {
    /// The policy `settings` describe, over the credentials and networks in force.
    pub fn new(settings: &EdgeSettings, live: Arc<LiveEdge>) -> Self {
        let mut challenges = Vec::new();
        if settings.has_api_keys() {
            challenges.push(r#"Bearer realm="customer-lookup""#);
        }
        if settings.has_basic_auth() {
            challenges.push(r#"Basic realm="customer-lookup", charset="UTF-8""#);
        }
        Self {
            live,
            lookup_needs_credentials: settings.has_credentials(),
            admin_needs_credentials: settings.has_admin_keys(),
            restrict_networks: !settings.allowed_networks.is_empty()
                || settings.allow_cidr_file.is_some(),
            certificate_admits: settings.client_certificates == Some(ClientCertMode::Optional),
            trusted_proxies: settings.trusted_proxies.clone(),
            forwarded_header: settings.forwarded_header,
            rate_limit: ClientRateLimit::per_second(settings.rate_limit),
            challenge: challenges.join(", "),
            metrics_need_credentials: settings.metrics_need_credentials,
        }
    }

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
            && self.restrict_networks
            && !client_addr::contains(&self.live.networks.load(), client.0)
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
        if admin && self.admin_needs_credentials {
            return if self.live.admin.load().admit(req.headers()) {
                Ok(())
            } else {
                Err(ApiError::Unauthorized {
                    challenge: r#"Bearer realm="customer-lookup-admin""#.into(),
                })
            };
        }
        // With `--client-cert-mode optional`, a verified client certificate stands for a key.
        let certified =
            self.certificate_admits && req.conn_data::<VerifiedClientCertificate>().is_some();
        let needs_key = !probe && self.lookup_needs_credentials && !certified;
        if needs_key && !self.live.lookup.load().admit(req.headers()) {
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
        policy.forwarded_header,
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
