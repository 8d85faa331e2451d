//! `/docs`: Swagger UI over `/openapi.json`, with every asset inside the binary, since many
//! contact-centre networks reach no CDN. On by default only when the service listens on
//! loopback (`--docs`).

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::Config;

use super::error::ApiError;
use super::routes;

static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new([routes::OPENAPI])
            .try_it_out_enabled(true)
            .display_request_duration(true),
    )
});

/// `/docs` itself: the page lives at `/docs/`, so that its relative asset links resolve.
pub async fn index() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{}/", routes::DOCS)))
        .finish()
}

/// A file of Swagger UI (`index.html` for `/docs/`).
pub async fn file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match utoipa_swagger_ui::serve(&path, CONFIG.clone()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            response.content_type(file.content_type);
            if file.gzpipped {
                response.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            Ok(response.body(file.bytes.into_owned()))
        }
        Ok(None) => Err(ApiError::RouteNotFound),
        Err(error) => {
            tracing::error!(%error, "cannot serve Swagger UI");
            Err(ApiError::RouteNotFound)
        }
    }
}
