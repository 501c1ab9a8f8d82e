//! The baseline of `scripts/bench.sh`: a bare actix-web handler that answers `GET /profile`
//! with a fixed user, as fast as actix can, with the same number of workers as the server. The
//! server's figures are reported as ratios to this one, measured in the same run.
//!
//! `cargo run --release -p auth-server --example bare` listens on 127.0.0.1 at the port in
//! `PORT` (default: any free one) and prints `listening on http://ADDR`.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn profile() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "id": "5f0c6a52-3c1e-4d43-9d7e-1d2b7c0f4a11",
        "username": "bench",
        "email": null,
        "role": "user",
        "is_active": true,
        "created_at": "2026-11-22T00:00:00Z",
        "updated_at": "2026-11-22T00:00:00Z"
    }))
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().route("/profile", web::get().to(profile)))
            .workers(std::thread::available_parallelism().map_or(2, usize::from))
            .bind(("127.0.0.1", port))?;
        for addr in server.addrs() {
            println!("listening on http://{addr}");
        }
        server.run().await
    })
}
