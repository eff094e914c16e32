//! The public pages of mailing lists (A8), for people who need no account here: a list's page
//! with its subscription form, the confirmation link a subscription mails, and the unsubscribe
//! link every copy carries (RFC 8058).
//!
//! Following a link never changes anything: link scanners and previews open links in mail, so
//! the GET shows a button and only the POST acts. The one-click POST a mail program sends
//! (`List-Unsubscribe=One-Click`) is that same POST. The links carry their own proof (an HMAC
//! code, a random token), so the forms need no session and no CSRF token.
//!
//! Plain HTML written here rather than Leptos pages: five short documents without a script,
//! readable by anyone, in French or English as the browser asks.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mail::Mail;
use store::{Confirmed, ListId, ListKind, Subscription};

/// The pages' own policy: the stylesheet, forms to themselves, nothing else.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) fn routes(mail: Mail) -> Router {
    Router::new()
        .route("/lists/{list}", get(list_page).post(subscribe))
        .route("/lists/unsubscribe/{list}/{member}/{code}", get(unsubscribe_page).post(unsubscribe))
        .route("/lists/confirm/{token}", get(confirm_page).post(confirm))
        .with_state(mail)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Fr,
}

impl Lang {
    fn of(headers: &HeaderMap) -> Lang {
        let asked = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if asked.trim_start().to_ascii_lowercase().starts_with("fr") { Lang::Fr } else { Lang::En }
    }

    fn pick(self, en: &'static str, fr: &'static str) -> &'static str {
        if self == Lang::Fr { fr } else { en }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A whole page: `body` is HTML already escaped.
fn page(lang: Lang, status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Facteur</title><link rel=\"stylesheet\" href=\"/facteur.css\"></head>\
         <body><main class=\"list-page\"><h1>{title}</h1>{body}</main></body></html>\n",
        lang = lang.pick("en", "fr"),
        title = escape(title),
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, CSP)], html)
        .into_response()
}

fn not_found(lang: Lang) -> Response {
    let text = lang.pick(
        "This link is not valid (any more). Ask the list's owners if you need it.",
        "Ce lien n'est pas (ou plus) valable. Demandez aux responsables de la liste si besoin.",
    );
    page(lang, StatusCode::NOT_FOUND, lang.pick("Link not valid", "Lien non valable"), &format!("<p>{text}</p>"))
}

fn failed(lang: Lang, error: &store::Error) -> Response {
    tracing::warn!(%error, "a list page failed");
    let text =
        lang.pick("Something went wrong here. Try again later.", "Un problème est survenu. Réessayez plus tard.");
    page(lang, StatusCode::INTERNAL_SERVER_ERROR, lang.pick("Error", "Erreur"), &format!("<p>{text}</p>"))
}

/// A list's page: what it is, and for a discussion list, a form to join it.
async fn list_page(State(mail): State<Mail>, Path(list): Path<i64>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let list = match mail.store().mailing_list(ListId(list)).await {
        Ok(Some(list)) => list,
        Ok(None) => return not_found(lang),
        Err(error) => return failed(lang, &error),
    };
    let mut body = format!("<p><a href=\"mailto:{0}\">{0}</a></p>", escape(&list.address));
    if list.kind == ListKind::Distribution {
        body.push_str(&format!(
            "<p>{}</p>",
            lang.pick(
                "A distribution list: its owners add its members and write to them.",
                "Une liste de diffusion : ses responsables y inscrivent les membres et leur écrivent."
            )
        ));
    } else {
        let how = match list.subscription {
            Subscription::Open => lang.pick("You join at once.", "Vous êtes inscrit aussitôt."),
            Subscription::Confirm => {
                lang.pick("You confirm from a link we send you.", "Vous confirmez par un lien que nous vous envoyons.")
            }
            Subscription::Moderated => lang.pick(
                "You confirm from a link we send you, then a moderator approves you.",
                "Vous confirmez par un lien que nous vous envoyons, puis un modérateur vous accepte.",
            ),
        };
        body.push_str(&format!(
            "<p>{how}</p><form method=\"post\"><label for=\"address\">{label}</label> \
             <input id=\"address\" name=\"address\" type=\"email\" required autocomplete=\"email\"> \
             <button type=\"submit\" class=\"button primary\">{join}</button></form>",
            label = lang.pick("Your address", "Votre adresse"),
            join = lang.pick("Join the list", "S'inscrire"),
        ));
    }
    page(lang, StatusCode::OK, list.title(), &body)
}

#[derive(serde::Deserialize)]
struct SubscribeForm {
    address: String,
}

async fn subscribe(
    State(mail): State<Mail>,
    Path(list): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<SubscribeForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let list = match mail.store().mailing_list(ListId(list)).await {
        Ok(Some(list)) if list.kind == ListKind::Discussion => list,
        Ok(_) => return not_found(lang),
        Err(error) => return failed(lang, &error),
    };
    let Ok(address) = store::parse_address(form.address.trim()) else {
        let text = lang.pick("This is not an e-mail address.", "Ce n'est pas une adresse électronique.");
        return page(lang, StatusCode::BAD_REQUEST, list.title(), &format!("<p role=\"alert\">{text}</p>"));
    };
    if let Err(error) = mail.request_subscription(&list, &address).await {
        return failed(lang, &error);
    }
    let text = if list.subscription == Subscription::Open {
        lang.pick("Done: this address is a member now.", "C'est fait : cette adresse est membre.")
    } else {
        lang.pick(
            "We sent a link to this address. Open it to confirm (it works for three days).",
            "Nous avons envoyé un lien à cette adresse. Ouvrez-le pour confirmer (il est valable trois jours).",
        )
    };
    page(lang, StatusCode::OK, list.title(), &format!("<p role=\"status\">{text}</p>"))
}

/// The unsubscribe link's page: who leaves what, and the button that does it.
async fn unsubscribe_page(
    State(mail): State<Mail>,
    Path((list, member, code)): Path<(i64, i64, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let (list, entry) = match mail.unsubscribe_link(ListId(list), member, &code).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(lang),
        Err(error) => return failed(lang, &error),
    };
    if !entry.member {
        let text = lang.pick("This address no longer receives this list.", "Cette adresse ne reçoit plus cette liste.");
        return page(lang, StatusCode::OK, list.title(), &format!("<p>{text}</p>"));
    }
    let body = format!(
        "<p>{ask} <strong>{address}</strong> → <strong>{list}</strong></p>\
         <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\" class=\"button primary\">{button}</button></form>",
        ask = lang.pick("Stop sending this list's mail to", "Ne plus envoyer le courrier de cette liste à"),
        address = escape(&entry.address),
        list = escape(&list.address),
        button = lang.pick("Unsubscribe", "Se désinscrire"),
    );
    page(lang, StatusCode::OK, lang.pick("Unsubscribe", "Désinscription"), &body)
}

/// RFC 8058 one-click, and the page's button: the same POST.
async fn unsubscribe(
    State(mail): State<Mail>,
    Path((list, member, code)): Path<(i64, i64, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    match mail.unsubscribe(ListId(list), member, &code).await {
        Ok(Some(list)) => {
            let text = lang.pick(
                "Done: this address no longer receives the list's mail.",
                "C'est fait : cette adresse ne reçoit plus le courrier de la liste.",
            );
            page(lang, StatusCode::OK, list.title(), &format!("<p role=\"status\">{text}</p>"))
        }
        Ok(None) => not_found(lang),
        Err(error) => failed(lang, &error),
    }
}

async fn confirm_page(Path(token): Path<String>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let body = format!(
        "<p>{text}</p><form method=\"post\" action=\"/lists/confirm/{token}\"><button type=\"submit\" class=\"button primary\">{button}</button></form>",
        text =
            lang.pick("Confirm that you want to join the list.", "Confirmez que vous voulez vous inscrire à la liste."),
        token = escape(&token),
        button = lang.pick("Confirm", "Confirmer"),
    );
    page(lang, StatusCode::OK, lang.pick("Confirm your subscription", "Confirmez votre inscription"), &body)
}

async fn confirm(State(mail): State<Mail>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let (list, text) = match mail.confirm_subscription(&token).await {
        Ok(Some(Confirmed::Joined(list, _))) => {
            (list, lang.pick("Done: you are a member of the list.", "C'est fait : vous êtes membre de la liste."))
        }
        Ok(Some(Confirmed::AwaitsModerator(list, _))) => (
            list,
            lang.pick(
                "Thank you. A moderator will approve your subscription.",
                "Merci. Un modérateur va accepter votre inscription.",
            ),
        ),
        Ok(None) => return not_found(lang),
        Err(error) => return failed(lang, &error),
    };
    let title = match mail.store().mailing_list(list).await {
        Ok(Some(list)) => list.title().to_string(),
        _ => String::new(),
    };
    page(lang, StatusCode::OK, &title, &format!("<p role=\"status\">{text}</p>"))
}
