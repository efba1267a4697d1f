//! `/openapi.json` and the Swagger UI at `/docs`, served from assets compiled into the binary
//! (swagger-ui-dist, Apache-2.0, in `assets/swagger-ui/`): the docs need no network.

use actix_web::{HttpResponse, http::header, web};

use super::state::AppState;

const INDEX: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>vendor-registry API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      validatorUrl: null
    });
  </script>
</body>
</html>
"##;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(spec))
        .route("/docs", web::get().to(index))
        .route("/docs/", web::get().to(index))
        .route("/docs/{file}", web::get().to(asset));
}

async fn spec(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX)
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "swagger-ui-bundle.js" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
            "text/javascript",
        ),
        "swagger-ui.css" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
            "text/css",
        ),
        "favicon-32x32.png" => (
            include_bytes!("../../assets/swagger-ui/favicon-32x32.png"),
            "image/png",
        ),
        _ => return actix_web::ResponseError::error_response(&super::error::ApiError::NotFound),
    };
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}
