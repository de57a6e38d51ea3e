//! The hosted HTML pages: the capture form and the "this link is invalid" page. Self-contained
//! (inline style, no scripts, no external assets), labelled for screen readers, and escaped by
//! maud.

use maud::{DOCTYPE, Markup, html};
use nexus_domain::connection::CaptureForm;
use std::collections::BTreeMap;

const STYLE: &str = ":root{color-scheme:light dark;--fg:#1a1a1a;--muted:#555;--bad:#a40000;--bg:#fff;--line:#888;--accent:#1f5fbf}\
@media (prefers-color-scheme:dark){:root{--fg:#eee;--muted:#bbb;--bad:#ff8a80;--bg:#161616;--line:#777;--accent:#8ab4ff}}\
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:var(--fg);background:var(--bg);line-height:1.4}\
h1{font-size:1.5rem}.about{color:var(--muted)}\
label{display:block;font-weight:600;margin-top:1rem}\
input{width:100%;padding:.6rem;margin-top:.25rem;box-sizing:border-box;font-size:1rem;color:inherit;background:transparent;border:1px solid var(--line);border-radius:.3rem}\
input[aria-invalid=true]{border-color:var(--bad)}\
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\
.hint{color:var(--muted);font-size:.9rem;margin:.25rem 0 0}.error{color:var(--bad);font-size:.9rem;margin:.25rem 0 0}\
.actions{display:flex;gap:1rem;align-items:center;margin-top:1.5rem;flex-wrap:wrap}\
button{padding:.6rem 1.2rem;font-size:1rem;border-radius:.3rem;border:0;background:var(--accent);color:var(--bg);cursor:pointer}\
a{color:var(--accent)}.logo{display:block;border-radius:.5rem}";

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
    .into_string()
}

/// The capture form, with per-field errors and the non-secret values already entered.
pub(crate) fn capture_form(
    form: &CaptureForm,
    state: &str,
    errors: &BTreeMap<String, String>,
    entered: &BTreeMap<String, String>,
) -> String {
    let title = format!("Connect {}", form.display_name);
    let general = errors.get("credentials");
    page(
        &title,
        html! {
            @if let Some(logo) = &form.logo_url {
                img.logo src=(logo.as_str()) alt="" width="48" height="48";
            }
            h1 { (title) }
            @if let Some(description) = &form.description {
                p.about { (description) }
            }
            @if let Some(docs) = &form.docs_url {
                p { a href=(docs.as_str()) target="_blank" rel="noopener noreferrer" { "Where do I find my key?" } }
            }
            p { "Enter your credentials. They are encrypted and only used on your behalf." }
            @if let Some(message) = general {
                p.error role="alert" { (message) }
            }
            form method="post" action=(form.submit_url.as_str()) autocomplete="off" {
                input type="hidden" name="state" value=(state);
                @for (name, field) in form.schema.fields_in_order() {
                    @let id = format!("field-{name}");
                    @let hint_id = format!("{id}-hint");
                    @let error_id = format!("{id}-error");
                    @let error = errors.get(name);
                    @let kind = match field.format.as_deref() {
                        Some("password") => "password",
                        Some("email") => "email",
                        Some("uri") => "url",
                        _ => "text",
                    };
                    @let value = if field.is_secret() { None } else { entered.get(name) };
                    @let described = [field.description.as_ref().map(|_| hint_id.clone()), error.map(|_| error_id.clone())]
                        .into_iter().flatten().collect::<Vec<_>>().join(" ");
                    label for=(id) {
                        (field.title.as_deref().unwrap_or(name))
                        @if form.schema.is_required(name) { " (required)" }
                    }
                    @if let Some(description) = &field.description {
                        p.hint id=(hint_id) { (description) }
                    }
                    input id=(id) name=(name) type=(kind)
                        required[form.schema.is_required(name)]
                        aria-invalid=[error.map(|_| "true")]
                        aria-describedby=[(!described.is_empty()).then_some(described.as_str())]
                        value=[value];
                    @if let Some(message) = error {
                        p.error id=(error_id) role="alert" { (message) }
                    }
                }
                div.actions {
                    button type="submit" { "Connect" }
                    a #cancel href=(form.cancel_url.as_str()) { "Cancel" }
                }
            }
        },
    )
}

/// The page for an invalid, expired or already used link: no redirect, nothing to retry here.
pub(crate) fn invalid_link(reason: &str) -> String {
    page(
        "This link cannot be used",
        html! {
            h1 { "This link cannot be used" }
            p { (reason) }
            p { "Go back to the application you came from and start connecting again." }
        },
    )
}
