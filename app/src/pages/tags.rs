//! /settings/tags: the account's tags (D6). Create one with a colour, give it another colour,
//! delete it (it leaves every message that has it). A name never changes: it is how the tag's
//! IMAP keyword was made, which mail programs keep. Plain forms: all of it works before the
//! WASM has loaded.

use leptos::prelude::*;
use types::{Tag, TagColour};

use crate::dto::TagsView;
use crate::error::AppError;
use crate::i18n::{Key, Lang, t, use_lang};
use crate::pages::folders::{action_error, fold_tools};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const TAGS_PATH: &str = "/settings/tags";

#[server(endpoint = "load_tags")]
pub async fn load_tags() -> Result<TagsView, AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    Ok(TagsView { login: account.login.clone(), tags: mail.tags(account.id).await? })
}

#[server(endpoint = "create_tag")]
pub async fn create_tag(name: String, colour: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let colour = TagColour::parse(&colour).ok_or(AppError::InvalidName)?;
    let mail = expect_context::<mail::Mail>();
    mail.create_tag(account.id, &name, colour).await.map_err(|error| match error {
        mail::tags::TagError::InvalidName => AppError::InvalidName,
        mail::tags::TagError::Exists => AppError::NameTaken,
        mail::tags::TagError::Store(store::Error::Limit(_)) => AppError::InvalidName,
        mail::tags::TagError::Store(other) => other.into(),
    })?;
    leptos_axum::redirect(TAGS_PATH);
    Ok(())
}

#[server(endpoint = "recolour_tag")]
pub async fn recolour_tag(keyword: String, colour: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let colour = TagColour::parse(&colour).ok_or(AppError::InvalidName)?;
    let mail = expect_context::<mail::Mail>();
    if !mail.set_tag_colour(account.id, &keyword, colour).await? {
        return Err(AppError::NotFound);
    }
    leptos_axum::redirect(TAGS_PATH);
    Ok(())
}

#[server(endpoint = "delete_tag")]
pub async fn delete_tag(keyword: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    if !mail.tags(account.id).await?.iter().any(|tag| tag.keyword == keyword) {
        return Err(AppError::NotFound);
    }
    mail.delete_tag(account.id, &keyword).await?;
    leptos_axum::redirect(TAGS_PATH);
    Ok(())
}

/// A colour's name in the reader's language.
fn colour_label(colour: TagColour, lang: Lang) -> &'static str {
    let key = match colour {
        TagColour::Red => Key::ColourRed,
        TagColour::Orange => Key::ColourOrange,
        TagColour::Yellow => Key::ColourYellow,
        TagColour::Green => Key::ColourGreen,
        TagColour::Teal => Key::ColourTeal,
        TagColour::Blue => Key::ColourBlue,
        TagColour::Purple => Key::ColourPurple,
        TagColour::Pink => Key::ColourPink,
        TagColour::Grey => Key::ColourGrey,
    };
    t(lang, key)
}

/// The `<option>`s of a colour menu, `selected` chosen.
fn colour_options(selected: TagColour) -> impl IntoView + use<> {
    let lang = use_lang();
    TagColour::ALL
        .into_iter()
        .map(|colour| {
            view! { <option value=colour.as_str() selected=colour == selected>{colour_label(colour, lang)}</option> }
        })
        .collect_view()
}

#[component]
pub fn TagsPage() -> impl IntoView {
    let lang = use_lang();
    let create = ServerAction::<CreateTag>::new();
    let recolour = ServerAction::<RecolourTag>::new();
    let delete = ServerAction::<DeleteTag>::new();
    let data = Resource::new(
        move || (create.version().get(), recolour.version().get(), delete.version().get()),
        |_| load_tags(),
    );
    Effect::new(move |_| {
        let _ = (create.version().get(), recolour.version().get(), delete.version().get());
        fold_tools();
    });
    let error = move || action_error([create.value().get(), recolour.value().get(), delete.value().get()]);
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |TagsView { login, tags }| {
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::Tags)}</h1>
                                <p class="note">{t(lang, Key::TagsIntro)}</p>
                                {error}
                                <NewTag create/>
                                <TagAdmin tags recolour delete/>
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

#[component]
fn NewTag(create: ServerAction<CreateTag>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card settings-card" aria-labelledby="new-tag">
            <h2 id="new-tag">{t(lang, Key::NewTag)}</h2>
            <ActionForm action=create>
                <div class="field">
                    <label for="new-tag-name">{t(lang, Key::TagName)}</label>
                    <input
                        id="new-tag-name"
                        name="name"
                        type="text"
                        maxlength=types::MAX_TAG_NAME_CHARS.to_string()
                        required
                    />
                </div>
                <div class="field">
                    <label for="new-tag-colour">{t(lang, Key::TagColourLabel)}</label>
                    <select id="new-tag-colour" name="colour">{colour_options(TagColour::Blue)}</select>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::CreateTag)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TagAdmin(tags: Vec<Tag>, recolour: ServerAction<RecolourTag>, delete: ServerAction<DeleteTag>) -> impl IntoView {
    let lang = use_lang();
    let empty = tags.is_empty();
    let rows = tags
        .into_iter()
        .enumerate()
        .map(|(index, tag)| {
            let colour_id = format!("tag-{index}-colour");
            let (keyword, delete_keyword) = (tag.keyword.clone(), tag.keyword.clone());
            let (name, delete_name) = (tag.name.clone(), tag.name.clone());
            view! {
                <li class="folder-admin-row">
                    <span class=format!("tag-chip tag-{}", tag.colour.as_str())>{tag.name.clone()}</span>
                    <ActionForm action=recolour attr:class="inline-form">
                        <input type="hidden" name="keyword" value=keyword/>
                        <label class="visually-hidden" for=colour_id.clone()>
                            {t(lang, Key::TagColourLabel)}" "{name}
                        </label>
                        <select id=colour_id name="colour">{colour_options(tag.colour)}</select>
                        " "
                        <button type="submit" class="button subtle">{t(lang, Key::Save)}</button>
                    </ActionForm>
                    <details class="folder-tool">
                        <summary>{t(lang, Key::DeleteTag)}<span class="visually-hidden">" "{delete_name.clone()}</span></summary>
                        <p class="note">{t(lang, Key::DeleteTagWarning)}</p>
                        <ActionForm action=delete>
                            <input type="hidden" name="keyword" value=delete_keyword/>
                            <button type="submit" class="button danger">
                                {t(lang, Key::DeleteTag)}
                                <span class="visually-hidden">" "{delete_name}</span>
                            </button>
                        </ActionForm>
                    </details>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="your-tags">
            <h2 id="your-tags">{t(lang, Key::YourTags)}</h2>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoTags)}</p> })}
            <ul class="folder-admin">{rows}</ul>
        </section>
    }
}
