//! Request bodies, read within `--max-body` (413) and `--request-timeout` (408).

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use super::AppState;
use super::error::ApiError;

/// The body, within the size and time limits.
pub(super) async fn read_body_within_limits(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<web::BytesMut, ApiError> {
    let mut reading = std::pin::pin!(read_body(req, payload, state.max_body));
    // Usually the whole body came with the headers: read it without arming a timer (a timer
    // entry set and cleared on every request showed up in profiles).
    let at_once = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match reading.as_mut().poll(cx) {
            std::task::Poll::Ready(read) => Some(read),
            std::task::Poll::Pending => None,
        })
    })
    .await;
    match at_once {
        Some(read) => read,
        None => tokio::time::timeout(state.request_timeout, reading)
            .await
            .map_err(|_| ApiError::RequestTimeout)?,
    }
}

/// Reads the body up to `limit` bytes; the Content-Length is checked first so an honest
/// oversized request is refused before any of it is read.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: u64,
) -> Result<web::BytesMut, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::UnreadableBody(e.to_string()))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
