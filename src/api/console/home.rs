//! The sign-in page, the home page, and the page a failure ends on.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{Markup, html};

use super::layout::{self, Section};
use super::session::Viewer;
use crate::api::error::Problem;

/// `GET /console`: what this viewer's roles open.
pub async fn home(v: Viewer) -> HttpResponse {
    let sections = layout::sections(&v);
    let content = html! {
        p { "You are signed in as " strong { (v.principal.sub) } " with the roles " strong { (layout::roles(&v)) } ". These are the parts of the console your roles open; the API's roles decide every page and every button, exactly as they decide the API's operations." }
        ul.cards {
            @for (href, text) in &sections {
                li { a href=(href) { (text) } }
            }
        }
        @if sections.is_empty() {
            p { "Your roles open no page of the console." }
        }
        p { "Services talk to the API: its reference is at " a href="/docs" { "/docs" } "." }
    };
    super::html(
        StatusCode::OK,
        layout::page(&v, Section::Home, "Console", content),
    )
}

/// The sign-in form, with the token field's error when the last one was refused, and the
/// provider's button when one is configured.
pub fn sign_in(error: Option<&str>, provider: Option<&str>) -> Markup {
    let header = html! { header.top { span.brand { "vendor-registry" } } };
    let content = html! {
        @if let Some(name) = provider {
            p { a.button href="/console/oidc/start" { "Sign in with " (name) } }
            p { "Or paste a token:" }
        }
        p { "Paste the token you were given: what " code { "vendor-registry token" } " prints, or one your identity provider issued for this service. It is kept in a cookie only this console reads, and checked on every page as the API checks a bearer token." }
        form method="post" action="/console/session" {
            div.field {
                label for="f-token" { "Token" }
                @if let Some(e) = error {
                    span.error id="e-token" { (e) }
                }
                textarea id="f-token" name="token" rows="5" autocomplete="off" spellcheck="false"
                    aria-describedby=[error.map(|_| "e-token")] aria-invalid=[error.map(|_| "true")] {}
            }
            button type="submit" { "Sign in" }
        }
    };
    layout::document("Sign in", header, content)
}

/// A failure, as the API's problem says it.
pub fn problem_page(p: &Problem) -> Markup {
    let header = html! {
        header.top {
            span.brand { "vendor-registry" }
            nav aria-label="Console" { ul { li { a href="/console" { "Console home" } } } }
        }
    };
    let content = html! {
        div.problem role="alert" {
            p { strong { (p.status) " " (p.title) } }
            p { (p.detail) }
            @if let Some(errors) = &p.errors {
                ul { @for e in errors { li { code { (e.field) } ": " (e.message) } } }
            }
        }
        p { a href="/console" { "Back to the console" } }
    };
    layout::document(&p.title, header, content)
}
