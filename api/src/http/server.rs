//! The HTTP server: actix-http over connections read through [`GuardedStream`], so that
//! every answer, even to a request head actix-http would refuse by itself, is ours.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_server::Server;
use actix_service::{fn_service, map_config, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use actix_web::middleware::{from_fn, Compress, Condition, ErrorHandlers};
use actix_web::{web, App};

use super::heads::{self, GuardedStream};
use super::{compression, observe, problems};
use crate::pages::session::CookieSecure;
use crate::settings::Settings;
use crate::state::AppState;

/// Connections waiting to be accepted per listener.
const BACKLOG: i32 = 1024;

/// Binds every address `settings.bind` resolves to and starts serving; the returned
/// server runs until it is stopped or receives SIGINT/SIGTERM once awaited.
pub fn start(
    settings: &Settings,
    state: web::Data<AppState>,
) -> Result<(Server, Vec<SocketAddr>), String> {
    let listeners = bind(&settings.bind)?;
    let mut builder = Server::build().shutdown_timeout(settings.shutdown_timeout.as_secs());
    if settings.workers > 0 {
        builder = builder.workers(settings.workers);
    }
    let mut addrs = Vec::new();
    for listener in listeners {
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let settings = settings.clone();
        let state = state.clone();
        let cookie_secure = web::Data::new(CookieSecure(settings.cookie_secure));
        let head_timeout = settings.client_request_timeout;
        builder = builder
            .listen(format!("canvass-{addr}"), listener, move || {
                let app = application(&settings, state.clone(), cookie_secure.clone());
                let http = HttpService::build()
                    // The guard times request heads out itself, so that its 408 is ours.
                    .client_request_timeout(Duration::ZERO)
                    .client_disconnect_timeout(Duration::from_secs(5))
                    .local_addr(addr)
                    .finish(map_config(app, |_| AppConfig::default()));
                fn_service(move |io: actix_web::rt::net::TcpStream| {
                    let peer = io.peer_addr().ok();
                    // Answers are small and latency matters more than packet count.
                    let _ = io.set_nodelay(true);
                    let guarded = GuardedStream::new(io, head_timeout);
                    async move { Ok((guarded, Protocol::Http1, peer)) }
                })
                .and_then(http)
            })
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        tracing::info!(%addr, "listening");
        eprintln!("canvass listening on http://{addr}");
        addrs.push(addr);
    }
    Ok((builder.run(), addrs))
}

/// The application every worker runs.
fn application(
    settings: &Settings,
    state: web::Data<AppState>,
    cookie_secure: web::Data<CookieSecure>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(cookie_secure)
        .wrap(from_fn(compression::leave_plain))
        .wrap(Compress::default())
        .wrap(ErrorHandlers::new().default_handler(problems::to_problem))
        .wrap(Condition::new(
            !settings.cors_origins.is_empty(),
            cors(&settings.cors_origins),
        ))
        .wrap(from_fn(heads::answer_refused_heads))
        .wrap(from_fn(observe::observe))
        .configure(crate::routes::configure)
}

fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
        ])
        .max_age(3600);
    for origin in origins {
        // actix-cors takes the wildcard only through `allow_any_origin` (it panics on "*").
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// Listeners on every address `bind` resolves to (as actix-web's `HttpServer::bind`:
/// an address already in use is an error only when no address could be bound).
fn bind(bind: &str) -> Result<Vec<TcpListener>, String> {
    let resolved = bind
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {bind}: {e}"))?;
    let mut listeners = Vec::new();
    let mut last_error = None;
    for addr in resolved {
        match listener(addr) {
            Ok(listener) => listeners.push(listener),
            Err(e) => last_error = Some(format!("cannot listen on {addr}: {e}")),
        }
    }
    if listeners.is_empty() {
        return Err(last_error.unwrap_or_else(|| format!("{bind} resolves to no address")));
    }
    Ok(listeners)
}

fn listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
