//! The reader's time zone (issue 16). Dates are written on the server, so the server must know
//! the zone: the browser names it (IANA, as `Intl` gives it) and the page keeps it in a cookie
//! that every later request carries. It is the browser's setting, not the account's: the same
//! person reading at home and abroad sees each place's time.

/// The cookie holding the zone's name.
pub const TIME_ZONE_COOKIE: &str = "facteur_tz";

/// Whether `name` can be an IANA zone name (`Europe/Paris`, `America/Argentina/Buenos_Aires`,
/// `Etc/GMT+5`): only characters a cookie may carry as they are.
pub fn is_zone_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'+' | b'-'))
}

/// Once the page is live: keeps the browser's zone in the cookie. When the cookie did not say
/// it yet and the page shows dates (`reload`), loads the page again so they are written in it;
/// only once the cookie took, so a browser refusing cookies never loops.
#[cfg(feature = "hydrate")]
pub fn keep_browser_time_zone(reload: bool) {
    use leptos::wasm_bindgen::JsCast;
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let zone = js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok().and_then(|v| v.as_string());
    let Some(zone) = zone.filter(|zone| is_zone_name(zone)) else { return };
    let Ok(document) = leptos::prelude::document().dyn_into::<web_sys::HtmlDocument>() else { return };
    let pair = format!("{TIME_ZONE_COOKIE}={zone}");
    let kept = |document: &web_sys::HtmlDocument| {
        document.cookie().unwrap_or_default().split(';').any(|cookie| cookie.trim() == pair)
    };
    if kept(&document) {
        return;
    }
    let _ = document.set_cookie(&format!("{pair}; Path=/; Max-Age=31536000; SameSite=Lax"));
    if reload && kept(&document) {
        let _ = leptos::prelude::window().location().reload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_what_a_cookie_carries() {
        for good in ["Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"] {
            assert!(is_zone_name(good), "{good}");
        }
        for bad in ["", "Europe/Paris; Path=/", "a b", "Zoé", &"x".repeat(65)] {
            assert!(!is_zone_name(bad), "{bad}");
        }
    }
}
