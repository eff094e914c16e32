//! The web client's two languages (C13): a fixed dictionary, no translation crate.
//!
//! The language comes from the browser's `Accept-Language` header on the server; the page
//! records it in `<html lang>`, and the hydrating client reads it back from there, so both sides
//! render the same words (a mismatch would break hydration).

use leptos::prelude::*;

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// The BCP 47 tag written into `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Reads a tag back from `<html lang>` (anything unknown is English).
    pub fn from_code(code: &str) -> Lang {
        if code.trim().to_ascii_lowercase().starts_with("fr") { Lang::Fr } else { Lang::En }
    }

    /// Picks the language from an `Accept-Language` header (RFC 9110 §12.5.4): the range with
    /// the highest weight wins (the first one on a tie); French for `fr*`, English otherwise.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(&str, f32)> = None;
        for item in header.split(',') {
            let mut pieces = item.split(';');
            let range = pieces.next().unwrap_or("").trim();
            if range.is_empty() {
                continue;
            }
            let weight = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if weight <= 0.0 {
                continue;
            }
            if best.is_none_or(|(_, best_weight)| weight > best_weight) {
                best = Some((range, weight));
            }
        }
        match best {
            Some((range, _)) => Lang::from_code(range),
            None => Lang::En,
        }
    }
}

/// Declares [`Key`] and [`Key::ALL`] from one list, so no key can be missing from `ALL` (the
/// test that every key has both languages walks it).
macro_rules! keys {
    ($($key:ident),* $(,)?) => {
        /// Every sentence of the interface.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Key {
            $($key),*
        }

        impl Key {
            /// Every key, in declaration order.
            pub const ALL: &'static [Key] = &[$(Key::$key),*];
        }
    };
}

keys! {
    AppName,
    Tagline,
    LoginTitle,
    Email,
    Password,
    SignIn,
    SignedInAs,
    Logout,
    ErrBadCredentials,
    ErrThrottled,
    ErrNotLoggedIn,
    ErrNotFound,
    ErrInternal,
    ErrRequest,
    PageNotFound,
    BackHome,
    Loading,
    FoldersNav,
    Folders,
    Messages,
    FolderInbox,
    FolderDrafts,
    FolderSent,
    FolderTemplates,
    FolderSpam,
    FolderTrash,
    UnreadCount,
    EmptyFolder,
    NoMessageSelected,
    BackToFolders,
    BackToList,
    From,
    To,
    Cc,
    Date,
    Subject,
    NoSubject,
    UnknownSender,
    Unread,
    HasAttachments,
    HighPriority,
    Attachments,
    Download,
    ImagesBlocked,
    ShowImages,
    MessageBody,
    EmptyBody,
    Settings,
    AppPasswords,
    AppPasswordsIntro,
    AppPasswordName,
    AppPasswordNameHint,
    AddAppPassword,
    AppPasswordCreated,
    AppPasswordShownOnce,
    NoAppPasswords,
    Created,
    LastUsed,
    NeverUsed,
    Remove,
    ErrInvalidName,
    ErrNameTaken,
    NewMessage,
    Bcc,
    CcBcc,
    Send,
    SaveDraft,
    Reply,
    ReplyAll,
    Forward,
    EditDraft,
    MessageSent,
    DraftSaved,
    RecipientsHint,
    ForwardedMessage,
    MessageActions,
    ErrNoRecipient,
    ErrBadRecipient,
    ErrUnknownRecipient,
    ErrRecipientMailboxFull,
    ErrSendingLimit,
    ErrTooManyRecipients,
    ErrMailboxFull,
    ErrNotYourAddress,
    ReadReceipt,
    DraftAutosaved,
    DraftNotSaved,
    ReceiptAsked,
    SendReceipt,
    DeclineReceipt,
    ErrTooLong,
    UploadBusy,
    ErrBadSendTime,
    ErrTooLateToUndo,
    Scheduled,
    ScheduledTitle,
    UndoDelay,
    NoDelay,
    Seconds,
    NoScheduled,
    Edit,
    DoNotSend,
    SendingCancelled,
    Undo,
    SendingUndone,
    SendLater,
    SendAt,
    Schedule,
    ScheduledFor,
    MessageScheduled,
    SettingSaved,
    SendsAt,
    ScheduledNotSent,
    ScheduledStaysInDrafts,
    ScheduledNotSentSubject,
    ErrAttachmentGone,
    ErrAttachmentsTooLarge,
    AttachFiles,
    DropFilesHere,
    RemoveAttachment,
    Uploading,
    UploadFailed,
    FileTooLarge,
    TooManyUploads,
    SaveTemplate,
    FooterNote,
    Signatures,
    SignaturesIntro,
    Save,
    SignatureSaved,
    UseTemplate,
    Options,
    Cancel,
    ShortcutNext,
    ShortcutPrevious,
    ShortcutOpen,
    ShortcutTick,
    ShortcutDelete,
    ShortcutHelp,
    KeyboardShortcuts,
    Close,
    SelectAll,
    SpaceUsed,
    MailboxSpace,
    NewFolder,
    FolderName,
    FolderParent,
    TopLevel,
    CreateFolder,
    YourFolders,
    RenameOrMove,
    DeleteFolder,
    DeleteFolderToTrash,
    DeleteFolderForGood,
    MessagesCount,
    ManageFolders,
    UnreadBelow,
    NoUnread,
    SortBy,
    SortSender,
    SortSize,
    Ascending,
    Descending,
    UnreadOnly,
    Pages,
    OfTotal,
    PreviousPage,
    NextPage,
    ChosenMessages,
    Choose,
    MarkRead,
    MarkUnread,
    FlagAction,
    UnflagAction,
    MoveTo,
    MoveAction,
    DeleteAction,
    DeleteForGood,
    EmptyTrash,
    EmptyTrashAsk,
    Flagged,
    Answered,
    Forwarded,
    MarkedDeleted,
    ErrBadForm,
    ErrTooManyChosen,
    ComposePreferences,
    FormatSetting,
    PlainText,
    RichText,
    ForwardSetting,
    ForwardInline,
    ForwardAttached,
    PreferencesSaved,
    Formatting,
    Bold,
    Italic,
    Underline,
    FontSize,
    SizeSmall,
    SizeNormal,
    SizeLarge,
    SizeHuge,
    TextColour,
    AlignLeft,
    AlignCenter,
    AlignRight,
    BulletList,
    NumberedList,
    InsertLink,
    LinkAddress,
    QuoteBlock,
    ClearFormatting,
    ReplyWithTemplate,
    UseThisTemplate,
    InsertImage,
    NotAnImage,
    ImageTooLarge,
    SignaturePlace,
    PlaceAbove,
    PlaceBelow,
    PlaceManual,
    InsertSignature,
    RemoveSignature,
    DisplayName,
    DefaultFrom,
    SignatureOf,
}

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match (lang, key) {
        (_, AppName) => "Facteur",
        (Lang::En, Tagline) => "Your mail, on your own server.",
        (Lang::Fr, Tagline) => "Votre courrier, sur votre propre serveur.",
        (Lang::En, LoginTitle) => "Sign in",
        (Lang::Fr, LoginTitle) => "Connexion",
        (Lang::En, Email) => "Email address",
        (Lang::Fr, Email) => "Adresse e-mail",
        (Lang::En, Password) => "Password",
        (Lang::Fr, Password) => "Mot de passe",
        (Lang::En, SignIn) => "Sign in",
        (Lang::Fr, SignIn) => "Se connecter",
        (Lang::En, SignedInAs) => "Signed in as",
        (Lang::Fr, SignedInAs) => "Connecté en tant que",
        (Lang::En, Logout) => "Log out",
        (Lang::Fr, Logout) => "Se déconnecter",
        (Lang::En, ErrBadCredentials) => "Wrong email address or password.",
        (Lang::Fr, ErrBadCredentials) => "Adresse e-mail ou mot de passe incorrect.",
        (Lang::En, ErrThrottled) => "Too many failed attempts. Wait a few minutes, then try again.",
        (Lang::Fr, ErrThrottled) => "Trop de tentatives échouées. Patientez quelques minutes puis réessayez.",
        (Lang::En, ErrNotLoggedIn) => "Your session has ended. Please sign in again.",
        (Lang::Fr, ErrNotLoggedIn) => "Votre session a pris fin. Veuillez vous reconnecter.",
        (Lang::En, ErrNotFound) => "This folder or message does not exist (any more).",
        (Lang::Fr, ErrNotFound) => "Ce dossier ou ce message n'existe pas (ou plus).",
        (Lang::En, ErrInternal) => "Something went wrong on the server. Please try again.",
        (Lang::Fr, ErrInternal) => "Une erreur s'est produite sur le serveur. Veuillez réessayer.",
        (Lang::En, ErrRequest) => "The request could not be completed. Please reload the page.",
        (Lang::Fr, ErrRequest) => "La demande n'a pas abouti. Veuillez recharger la page.",
        (Lang::En, PageNotFound) => "Page not found",
        (Lang::Fr, PageNotFound) => "Page introuvable",
        (Lang::En, BackHome) => "Back to your mail",
        (Lang::Fr, BackHome) => "Retour à votre courrier",
        (Lang::En, Loading) => "Loading…",
        (Lang::Fr, Loading) => "Chargement…",
        (Lang::En, FoldersNav) => "Mail folders",
        (Lang::Fr, FoldersNav) => "Dossiers de messagerie",
        (Lang::En, Folders) => "Folders",
        (Lang::Fr, Folders) => "Dossiers",
        (Lang::En, Messages) => "Messages",
        (Lang::Fr, Messages) => "Messages",
        (Lang::En, FolderInbox) => "Inbox",
        (Lang::Fr, FolderInbox) => "Boîte de réception",
        (Lang::En, FolderDrafts) => "Drafts",
        (Lang::Fr, FolderDrafts) => "Brouillons",
        (Lang::En, FolderSent) => "Sent",
        (Lang::Fr, FolderSent) => "Envoyés",
        (Lang::En, FolderTemplates) => "Templates",
        (Lang::Fr, FolderTemplates) => "Modèles",
        (Lang::En, FolderSpam) => "Spam",
        (Lang::Fr, FolderSpam) => "Indésirables",
        (Lang::En, FolderTrash) => "Trash",
        (Lang::Fr, FolderTrash) => "Corbeille",
        (Lang::En, UnreadCount) => "unread",
        (Lang::Fr, UnreadCount) => "non lus",
        (Lang::En, EmptyFolder) => "No messages in this folder.",
        (Lang::Fr, EmptyFolder) => "Aucun message dans ce dossier.",
        (Lang::En, NoMessageSelected) => "Select a message to read it.",
        (Lang::Fr, NoMessageSelected) => "Sélectionnez un message pour le lire.",
        (Lang::En, BackToFolders) => "Folders",
        (Lang::Fr, BackToFolders) => "Dossiers",
        (Lang::En, BackToList) => "Back to the list",
        (Lang::Fr, BackToList) => "Retour à la liste",
        (Lang::En, From) => "From",
        (Lang::Fr, From) => "De",
        (Lang::En, To) => "To",
        (Lang::Fr, To) => "À",
        (_, Cc) => "Cc",
        (_, Date) => "Date",
        (Lang::En, Subject) => "Subject",
        (Lang::Fr, Subject) => "Objet",
        (Lang::En, NoSubject) => "(no subject)",
        (Lang::Fr, NoSubject) => "(sans objet)",
        (Lang::En, UnknownSender) => "(unknown sender)",
        (Lang::Fr, UnknownSender) => "(expéditeur inconnu)",
        (Lang::En, Unread) => "Unread",
        (Lang::Fr, Unread) => "Non lu",
        (Lang::En, HasAttachments) => "Has attachments",
        (Lang::Fr, HasAttachments) => "Avec pièces jointes",
        (Lang::En, HighPriority) => "High priority",
        (Lang::Fr, HighPriority) => "Priorité haute",
        (Lang::En, Attachments) => "Attachments",
        (Lang::Fr, Attachments) => "Pièces jointes",
        (Lang::En, Download) => "Download",
        (Lang::Fr, Download) => "Télécharger",
        (Lang::En, ImagesBlocked) => "External images are blocked",
        (Lang::Fr, ImagesBlocked) => "Les images externes sont bloquées",
        (Lang::En, ShowImages) => "Show images",
        (Lang::Fr, ShowImages) => "Afficher les images",
        (Lang::En, MessageBody) => "Message content",
        (Lang::Fr, MessageBody) => "Contenu du message",
        (Lang::En, EmptyBody) => "This message has no text.",
        (Lang::Fr, EmptyBody) => "Ce message ne contient pas de texte.",
        (Lang::En, Settings) => "Settings",
        (Lang::Fr, Settings) => "Paramètres",
        (Lang::En, AppPasswords) => "App passwords",
        (Lang::Fr, AppPasswords) => "Mots de passe d'application",
        (Lang::En, AppPasswordsIntro) => {
            "An app password lets one program (a phone, a desktop mail client) log in over IMAP or SMTP \
             without your own password. Give each program its own, and remove it when you no longer \
             use that program."
        }
        (Lang::Fr, AppPasswordsIntro) => {
            "Un mot de passe d'application permet à un programme (un téléphone, un logiciel de messagerie) \
             de se connecter en IMAP ou SMTP sans votre mot de passe. Donnez-en un à chaque programme et \
             supprimez-le quand vous ne l'utilisez plus."
        }
        (Lang::En, AppPasswordName) => "Program",
        (Lang::Fr, AppPasswordName) => "Programme",
        (Lang::En, AppPasswordNameHint) => "For example: Thunderbird at home",
        (Lang::Fr, AppPasswordNameHint) => "Par exemple : Thunderbird à la maison",
        (Lang::En, AddAppPassword) => "Create an app password",
        (Lang::Fr, AddAppPassword) => "Créer un mot de passe d'application",
        (Lang::En, AppPasswordCreated) => "New app password:",
        (Lang::Fr, AppPasswordCreated) => "Nouveau mot de passe d'application :",
        (Lang::En, AppPasswordShownOnce) => "Copy it into the program now: it will not be shown again.",
        (Lang::Fr, AppPasswordShownOnce) => "Copiez-le maintenant dans le programme : il ne sera plus affiché.",
        (Lang::En, NoAppPasswords) => "No app password yet.",
        (Lang::Fr, NoAppPasswords) => "Aucun mot de passe d'application pour l'instant.",
        (Lang::En, Created) => "Created",
        (Lang::Fr, Created) => "Créé",
        (Lang::En, LastUsed) => "Last used",
        (Lang::Fr, LastUsed) => "Dernière utilisation",
        (Lang::En, NeverUsed) => "never",
        (Lang::Fr, NeverUsed) => "jamais",
        (Lang::En, Remove) => "Remove",
        (Lang::Fr, Remove) => "Supprimer",
        (Lang::En, ErrInvalidName) => "The name must have 1 to 100 characters, without line breaks.",
        (Lang::Fr, ErrInvalidName) => "Le nom doit compter de 1 à 100 caractères, sans retour à la ligne.",
        (Lang::En, ErrNameTaken) => "This name is already used.",
        (Lang::Fr, ErrNameTaken) => "Ce nom est déjà utilisé.",
        (Lang::En, NewMessage) => "New message",
        (Lang::Fr, NewMessage) => "Nouveau message",
        (Lang::En, Bcc) => "Bcc",
        (Lang::Fr, Bcc) => "Cci",
        (Lang::En, CcBcc) => "Cc and Bcc",
        (Lang::Fr, CcBcc) => "Cc et Cci",
        (Lang::En, Send) => "Send",
        (Lang::Fr, Send) => "Envoyer",
        (Lang::En, SaveDraft) => "Save draft",
        (Lang::Fr, SaveDraft) => "Enregistrer le brouillon",
        (Lang::En, Reply) => "Reply",
        (Lang::Fr, Reply) => "Répondre",
        (Lang::En, ReplyAll) => "Reply all",
        (Lang::Fr, ReplyAll) => "Répondre à tous",
        (Lang::En, Forward) => "Forward",
        (Lang::Fr, Forward) => "Transférer",
        (Lang::En, EditDraft) => "Continue this draft",
        (Lang::Fr, EditDraft) => "Reprendre ce brouillon",
        (Lang::En, MessageSent) => "Message sent.",
        (Lang::Fr, MessageSent) => "Message envoyé.",
        (Lang::En, DraftSaved) => "Draft saved.",
        (Lang::Fr, DraftSaved) => "Brouillon enregistré.",
        (Lang::En, RecipientsHint) => "Addresses separated by commas",
        (Lang::Fr, RecipientsHint) => "Adresses séparées par des virgules",
        (Lang::En, ForwardedMessage) => "-------- Forwarded message --------",
        (Lang::Fr, ForwardedMessage) => "-------- Message transféré --------",
        (Lang::En, MessageActions) => "Message actions",
        (Lang::Fr, MessageActions) => "Actions sur le message",
        (Lang::En, ErrNoRecipient) => "Add at least one recipient.",
        (Lang::Fr, ErrNoRecipient) => "Ajoutez au moins un destinataire.",
        (Lang::En, ErrBadRecipient) => "This is not an email address:",
        (Lang::Fr, ErrBadRecipient) => "Ceci n'est pas une adresse e-mail :",
        (Lang::En, ErrUnknownRecipient) => "Nobody has this address here:",
        (Lang::Fr, ErrUnknownRecipient) => "Personne n'a cette adresse ici :",
        (Lang::En, ErrRecipientMailboxFull) => "A recipient's mailbox is full. The message was not sent.",
        (Lang::Fr, ErrRecipientMailboxFull) => "La boîte d'un destinataire est pleine. Le message n'a pas été envoyé.",
        (Lang::En, ErrSendingLimit) => "You have sent as many messages as allowed this hour. Try again later.",
        (Lang::Fr, ErrSendingLimit) => {
            "Vous avez envoyé autant de messages que permis cette heure-ci. Réessayez plus tard."
        }
        (Lang::En, ErrTooManyRecipients) => "A message can have at most 100 recipients.",
        (Lang::Fr, ErrTooManyRecipients) => "Un message peut avoir au plus 100 destinataires.",
        (Lang::En, ErrMailboxFull) => {
            "Your mailbox is full: the draft was not saved. Delete some messages and try again."
        }
        (Lang::Fr, ErrMailboxFull) => {
            "Votre boîte est pleine : le brouillon n'a pas été enregistré. Supprimez des messages et réessayez."
        }
        (Lang::En, ErrNotYourAddress) => "You cannot send from this address:",
        (Lang::Fr, ErrNotYourAddress) => "Vous ne pouvez pas envoyer depuis cette adresse :",
        (Lang::En, FooterNote) => "Your organisation adds this footer below the message:",
        (Lang::Fr, FooterNote) => "Votre organisation ajoute ce pied de page sous le message :",
        (Lang::En, Signatures) => "Signatures",
        (Lang::Fr, Signatures) => "Signatures",
        (Lang::En, SignaturesIntro) => {
            "A signature for each address you send from, put below new messages, replies and forwards \
             written here. Leave it empty for none; you can still change or remove it in any message."
        }
        (Lang::Fr, SignaturesIntro) => {
            "Une signature pour chaque adresse d'envoi, placée sous les nouveaux messages, réponses et \
             transferts écrits ici. Laissez vide pour aucune ; vous pouvez la modifier ou l'enlever dans \
             chaque message."
        }
        (Lang::En, Save) => "Save",
        (Lang::Fr, Save) => "Enregistrer",
        (Lang::En, SignatureSaved) => "Signature saved.",
        (Lang::Fr, SignatureSaved) => "Signature enregistrée.",
        (Lang::En, SaveTemplate) => "Save as template",
        (Lang::Fr, SaveTemplate) => "Enregistrer comme modèle",
        (Lang::En, UseTemplate) => "New message from this template",
        (Lang::Fr, UseTemplate) => "Nouveau message avec ce modèle",
        (Lang::En, ReceiptAsked) => "The sender asks for a read receipt, to",
        (Lang::Fr, ReceiptAsked) => "L'expéditeur demande un accusé de lecture, à",
        (Lang::En, SendReceipt) => "Send the receipt",
        (Lang::Fr, SendReceipt) => "Envoyer l'accusé",
        (Lang::En, DeclineReceipt) => "Do not send",
        (Lang::Fr, DeclineReceipt) => "Ne pas envoyer",
        (Lang::En, DraftNotSaved) => "Draft not saved yet:",
        (Lang::Fr, DraftNotSaved) => "Brouillon pas encore enregistré :",
        (Lang::En, ErrTooLong) => "This text is too long.",
        (Lang::Fr, ErrTooLong) => "Ce texte est trop long.",
        (Lang::En, UploadBusy) => "could not be uploaded now: the server is busy, try again in a moment.",
        (Lang::Fr, UploadBusy) => {
            "n'a pas pu être envoyé maintenant : le serveur est occupé, réessayez dans un instant."
        }
        (Lang::En, ErrBadSendTime) => "Choose a date and time to come, within a year.",
        (Lang::Fr, ErrBadSendTime) => "Choisissez une date et une heure à venir, dans l'année.",
        (Lang::En, ErrTooLateToUndo) => "Too late: the message has left.",
        (Lang::Fr, ErrTooLateToUndo) => "Trop tard : le message est parti.",
        (Lang::En, Scheduled) => "Scheduled",
        (Lang::Fr, Scheduled) => "Envois programmés",
        (Lang::En, ScheduledTitle) => "Messages to send later",
        (Lang::Fr, ScheduledTitle) => "Messages à envoyer plus tard",
        (Lang::En, UndoDelay) => "Time to undo a message sent",
        (Lang::Fr, UndoDelay) => "Délai pour annuler un envoi",
        (Lang::En, NoDelay) => "None",
        (Lang::Fr, NoDelay) => "Aucun",
        (Lang::En, Seconds) => "seconds",
        (Lang::Fr, Seconds) => "secondes",
        (Lang::En, NoScheduled) => "No message is waiting to be sent.",
        (Lang::Fr, NoScheduled) => "Aucun message n'attend d'être envoyé.",
        (Lang::En, Edit) => "Edit",
        (Lang::Fr, Edit) => "Modifier",
        (Lang::En, DoNotSend) => "Do not send",
        (Lang::Fr, DoNotSend) => "Ne pas envoyer",
        (Lang::En, SendingCancelled) => "This message will not be sent; it stays in Drafts.",
        (Lang::Fr, SendingCancelled) => "Ce message ne sera pas envoyé ; il reste dans les Brouillons.",
        (Lang::En, Undo) => "Undo",
        (Lang::Fr, Undo) => "Annuler",
        (Lang::En, SendingUndone) => "Sending cancelled: here is the message again.",
        (Lang::Fr, SendingUndone) => "Envoi annulé : voici à nouveau le message.",
        (Lang::En, SendLater) => "Send later",
        (Lang::Fr, SendLater) => "Envoyer plus tard",
        (Lang::En, SendAt) => "Date and time",
        (Lang::Fr, SendAt) => "Date et heure",
        (Lang::En, Schedule) => "Schedule",
        (Lang::Fr, Schedule) => "Programmer",
        (Lang::En, ScheduledFor) => "This message is scheduled to be sent on",
        (Lang::Fr, ScheduledFor) => "Ce message est programmé pour être envoyé le",
        (Lang::En, MessageScheduled) => "Message scheduled.",
        (Lang::Fr, MessageScheduled) => "Message programmé.",
        (Lang::En, SettingSaved) => "Setting saved.",
        (Lang::Fr, SettingSaved) => "Réglage enregistré.",
        (Lang::En, SendsAt) => "Sent on",
        (Lang::Fr, SendsAt) => "Envoi le",
        (Lang::En, ScheduledNotSent) => "Your scheduled message was not sent:",
        (Lang::Fr, ScheduledNotSent) => "Votre message programmé n'a pas été envoyé :",
        (Lang::En, ScheduledStaysInDrafts) => "It is in your Drafts folder, as you left it.",
        (Lang::Fr, ScheduledStaysInDrafts) => "Il est dans votre dossier Brouillons, tel que vous l'avez laissé.",
        (Lang::En, ScheduledNotSentSubject) => "Message not sent",
        (Lang::Fr, ScheduledNotSentSubject) => "Message non envoyé",
        (Lang::En, ErrAttachmentGone) => "An attached file is no longer there: attach it again.",
        (Lang::Fr, ErrAttachmentGone) => "Une pièce jointe n'existe plus : joignez-la à nouveau.",
        (Lang::En, ErrAttachmentsTooLarge) => "The attachments weigh more than the 25 MB a message may carry.",
        (Lang::Fr, ErrAttachmentsTooLarge) => "Les pièces jointes dépassent les 25 Mo qu'un message peut porter.",
        (Lang::En, AttachFiles) => "Attach files",
        (Lang::Fr, AttachFiles) => "Joindre des fichiers",
        (Lang::En, DropFilesHere) => "or drop them here",
        (Lang::Fr, DropFilesHere) => "ou déposez-les ici",
        (Lang::En, RemoveAttachment) => "Remove",
        (Lang::Fr, RemoveAttachment) => "Retirer",
        (Lang::En, Uploading) => "Uploading",
        (Lang::Fr, Uploading) => "Envoi en cours",
        (Lang::En, UploadFailed) => "could not be uploaded.",
        (Lang::Fr, UploadFailed) => "n'a pas pu être envoyé.",
        (Lang::En, FileTooLarge) => "is too large: the attachments of a message may weigh 25 MB together.",
        (Lang::Fr, FileTooLarge) => {
            "est trop volumineux : les pièces jointes d'un message peuvent peser 25 Mo au total."
        }
        (Lang::En, TooManyUploads) => "Too many files are waiting to be sent: send or remove some first.",
        (Lang::Fr, TooManyUploads) => "Trop de fichiers attendent d'être envoyés : envoyez ou retirez-en d'abord.",
        (Lang::En, DraftAutosaved) => "Draft saved automatically.",
        (Lang::Fr, DraftAutosaved) => "Brouillon enregistré automatiquement.",
        (Lang::En, ReadReceipt) => "Ask for a read receipt",
        (Lang::Fr, ReadReceipt) => "Demander un accusé de lecture",
        (Lang::En, Options) => "Options",
        (Lang::Fr, Options) => "Options d'envoi",
        (Lang::En, Cancel) => "Cancel",
        (Lang::Fr, Cancel) => "Annuler",
        (Lang::En, ShortcutNext) => "Next message",
        (Lang::Fr, ShortcutNext) => "Message suivant",
        (Lang::En, ShortcutPrevious) => "Previous message",
        (Lang::Fr, ShortcutPrevious) => "Message précédent",
        (Lang::En, ShortcutOpen) => "Open the message",
        (Lang::Fr, ShortcutOpen) => "Ouvrir le message",
        (Lang::En, ShortcutTick) => "Tick the message",
        (Lang::Fr, ShortcutTick) => "Cocher le message",
        (Lang::En, ShortcutDelete) => "Delete",
        (Lang::Fr, ShortcutDelete) => "Supprimer",
        (Lang::En, ShortcutHelp) => "Show this list",
        (Lang::Fr, ShortcutHelp) => "Afficher cette liste",
        (Lang::En, KeyboardShortcuts) => "Keyboard shortcuts",
        (Lang::Fr, KeyboardShortcuts) => "Raccourcis clavier",
        (Lang::En, Close) => "Close",
        (Lang::Fr, Close) => "Fermer",
        (Lang::En, SelectAll) => "All",
        (Lang::Fr, SelectAll) => "Tous",
        (Lang::En, SpaceUsed) => "used",
        (Lang::Fr, SpaceUsed) => "utilisés",
        (Lang::En, MailboxSpace) => "Mailbox space",
        (Lang::Fr, MailboxSpace) => "Espace de la boîte",
        (Lang::En, NewFolder) => "New folder",
        (Lang::Fr, NewFolder) => "Nouveau dossier",
        (Lang::En, FolderName) => "Name",
        (Lang::Fr, FolderName) => "Nom",
        (Lang::En, FolderParent) => "Inside",
        (Lang::Fr, FolderParent) => "Dans",
        (Lang::En, TopLevel) => "(top level)",
        (Lang::Fr, TopLevel) => "(premier niveau)",
        (Lang::En, CreateFolder) => "Create",
        (Lang::Fr, CreateFolder) => "Créer",
        (Lang::En, YourFolders) => "Your folders",
        (Lang::Fr, YourFolders) => "Vos dossiers",
        (Lang::En, RenameOrMove) => "Rename or move",
        (Lang::Fr, RenameOrMove) => "Renommer ou déplacer",
        (Lang::En, DeleteFolder) => "Delete folder",
        (Lang::Fr, DeleteFolder) => "Supprimer le dossier",
        (Lang::En, DeleteFolderToTrash) => "The folder and its subfolders go to Trash, with their messages.",
        (Lang::Fr, DeleteFolderToTrash) => {
            "Le dossier et ses sous-dossiers vont dans la corbeille, avec leurs messages."
        }
        (Lang::En, DeleteFolderForGood) => "The folder, its subfolders and their messages will be deleted for good.",
        (Lang::Fr, DeleteFolderForGood) => {
            "Le dossier, ses sous-dossiers et leurs messages seront supprimés définitivement."
        }
        (Lang::En, MessagesCount) => "messages",
        (Lang::Fr, MessagesCount) => "messages",
        (Lang::En, ManageFolders) => "Manage folders",
        (Lang::Fr, ManageFolders) => "Gérer les dossiers",
        (Lang::En, UnreadBelow) => "unread messages in subfolders",
        (Lang::Fr, UnreadBelow) => "messages non lus dans les sous-dossiers",
        (Lang::En, NoUnread) => "No unread message here.",
        (Lang::Fr, NoUnread) => "Aucun message non lu ici.",
        (Lang::En, SortBy) => "Sort by",
        (Lang::Fr, SortBy) => "Trier par",
        (Lang::En, SortSender) => "Sender",
        (Lang::Fr, SortSender) => "Expéditeur",
        (Lang::En, SortSize) => "Size",
        (Lang::Fr, SortSize) => "Taille",
        (Lang::En, Ascending) => "ascending",
        (Lang::Fr, Ascending) => "croissant",
        (Lang::En, Descending) => "descending",
        (Lang::Fr, Descending) => "décroissant",
        (Lang::En, UnreadOnly) => "Unread only",
        (Lang::Fr, UnreadOnly) => "Non lus seulement",
        (Lang::En, Pages) => "Pages",
        (Lang::Fr, Pages) => "Pages",
        (Lang::En, OfTotal) => "of",
        (Lang::Fr, OfTotal) => "sur",
        (Lang::En, PreviousPage) => "Previous page",
        (Lang::Fr, PreviousPage) => "Page précédente",
        (Lang::En, NextPage) => "Next page",
        (Lang::Fr, NextPage) => "Page suivante",
        (Lang::En, ChosenMessages) => "Chosen messages",
        (Lang::Fr, ChosenMessages) => "Messages choisis",
        (Lang::En, Choose) => "Choose",
        (Lang::Fr, Choose) => "Choisir",
        (Lang::En, MarkRead) => "Mark read",
        (Lang::Fr, MarkRead) => "Marquer lu",
        (Lang::En, MarkUnread) => "Mark unread",
        (Lang::Fr, MarkUnread) => "Marquer non lu",
        (Lang::En, FlagAction) => "Flag",
        (Lang::Fr, FlagAction) => "Drapeau",
        (Lang::En, UnflagAction) => "Unflag",
        (Lang::Fr, UnflagAction) => "Retirer le drapeau",
        (Lang::En, MoveTo) => "Move to",
        (Lang::Fr, MoveTo) => "Déplacer vers",
        (Lang::En, MoveAction) => "Move",
        (Lang::Fr, MoveAction) => "Déplacer",
        (Lang::En, DeleteAction) => "Delete",
        (Lang::Fr, DeleteAction) => "Supprimer",
        (Lang::En, DeleteForGood) => "Delete for good",
        (Lang::Fr, DeleteForGood) => "Supprimer définitivement",
        (Lang::En, EmptyTrash) => "Empty Trash",
        (Lang::Fr, EmptyTrash) => "Vider la corbeille",
        (Lang::En, EmptyTrashAsk) => "Delete every message in Trash for good? This cannot be undone.",
        (Lang::Fr, EmptyTrashAsk) => {
            "Supprimer définitivement tous les messages de la corbeille ? Ce n'est pas réversible."
        }
        (Lang::En, Flagged) => "Flagged",
        (Lang::Fr, Flagged) => "Avec drapeau",
        (Lang::En, Answered) => "Answered",
        (Lang::Fr, Answered) => "Répondu",
        (Lang::En, Forwarded) => "Forwarded",
        (Lang::Fr, Forwarded) => "Transféré",
        (Lang::En, MarkedDeleted) => "Marked for deletion",
        (Lang::Fr, MarkedDeleted) => "Marqué pour suppression",
        (Lang::En, ErrBadForm) => "This request could not be read. Go back and try again.",
        (Lang::Fr, ErrBadForm) => "Cette demande est illisible. Revenez en arrière et réessayez.",
        (Lang::En, ErrTooManyChosen) => "Choose at most 1,000 messages at once.",
        (Lang::Fr, ErrTooManyChosen) => "Choisissez au plus 1 000 messages à la fois.",
        (Lang::En, ComposePreferences) => "Writing",
        (Lang::Fr, ComposePreferences) => "Rédaction",
        (Lang::En, FormatSetting) => "Write new messages in",
        (Lang::Fr, FormatSetting) => "Écrire les nouveaux messages en",
        (Lang::En, PlainText) => "Plain text",
        (Lang::Fr, PlainText) => "Texte brut",
        (Lang::En, RichText) => "Rich text",
        (Lang::Fr, RichText) => "Texte enrichi",
        (Lang::En, ForwardSetting) => "Forward a message",
        (Lang::Fr, ForwardSetting) => "Transférer un message",
        (Lang::En, ForwardInline) => "In the text",
        (Lang::Fr, ForwardInline) => "Dans le texte",
        (Lang::En, ForwardAttached) => "As an attachment (.eml)",
        (Lang::Fr, ForwardAttached) => "En pièce jointe (.eml)",
        (Lang::En, PreferencesSaved) => "Preferences saved.",
        (Lang::Fr, PreferencesSaved) => "Préférences enregistrées.",
        (Lang::En, Formatting) => "Formatting",
        (Lang::Fr, Formatting) => "Mise en forme",
        (Lang::En, Bold) => "Bold",
        (Lang::Fr, Bold) => "Gras",
        (Lang::En, Italic) => "Italic",
        (Lang::Fr, Italic) => "Italique",
        (Lang::En, Underline) => "Underline",
        (Lang::Fr, Underline) => "Souligné",
        (Lang::En, FontSize) => "Size",
        (Lang::Fr, FontSize) => "Taille",
        (Lang::En, SizeSmall) => "Small",
        (Lang::Fr, SizeSmall) => "Petite",
        (Lang::En, SizeNormal) => "Normal",
        (Lang::Fr, SizeNormal) => "Normale",
        (Lang::En, SizeLarge) => "Large",
        (Lang::Fr, SizeLarge) => "Grande",
        (Lang::En, SizeHuge) => "Huge",
        (Lang::Fr, SizeHuge) => "Très grande",
        (Lang::En, TextColour) => "Text colour",
        (Lang::Fr, TextColour) => "Couleur du texte",
        (Lang::En, AlignLeft) => "Align left",
        (Lang::Fr, AlignLeft) => "Aligner à gauche",
        (Lang::En, AlignCenter) => "Centre",
        (Lang::Fr, AlignCenter) => "Centrer",
        (Lang::En, AlignRight) => "Align right",
        (Lang::Fr, AlignRight) => "Aligner à droite",
        (Lang::En, BulletList) => "Bulleted list",
        (Lang::Fr, BulletList) => "Liste à puces",
        (Lang::En, NumberedList) => "Numbered list",
        (Lang::Fr, NumberedList) => "Liste numérotée",
        (Lang::En, InsertLink) => "Link",
        (Lang::Fr, InsertLink) => "Lien",
        (Lang::En, LinkAddress) => "Address of the link",
        (Lang::Fr, LinkAddress) => "Adresse du lien",
        (Lang::En, QuoteBlock) => "Quote",
        (Lang::Fr, QuoteBlock) => "Citation",
        (Lang::En, ClearFormatting) => "Clear formatting",
        (Lang::Fr, ClearFormatting) => "Effacer la mise en forme",
        (Lang::En, ReplyWithTemplate) => "Reply with a template",
        (Lang::Fr, ReplyWithTemplate) => "Répondre avec un modèle",
        (Lang::En, UseThisTemplate) => "Use",
        (Lang::Fr, UseThisTemplate) => "Utiliser",
        (Lang::En, InsertImage) => "Picture",
        (Lang::Fr, InsertImage) => "Image",
        (Lang::En, NotAnImage) => "Only PNG, JPEG, GIF or WebP pictures go in the text.",
        (Lang::Fr, NotAnImage) => "Seules les images PNG, JPEG, GIF ou WebP vont dans le texte.",
        (Lang::En, ImageTooLarge) => "This picture is over 2 MB: attach it as a file instead.",
        (Lang::Fr, ImageTooLarge) => "Cette image dépasse 2 Mo : joignez-la plutôt comme fichier.",
        (Lang::En, SignaturePlace) => "Put my signature",
        (Lang::Fr, SignaturePlace) => "Placer ma signature",
        (Lang::En, PlaceAbove) => "Above the quoted text",
        (Lang::Fr, PlaceAbove) => "Au-dessus du texte cité",
        (Lang::En, PlaceBelow) => "At the bottom of the message",
        (Lang::Fr, PlaceBelow) => "En bas du message",
        (Lang::En, PlaceManual) => "Only where I insert it",
        (Lang::Fr, PlaceManual) => "Seulement là où je l’insère",
        (Lang::En, InsertSignature) => "Insert signature",
        (Lang::Fr, InsertSignature) => "Insérer la signature",
        (Lang::En, RemoveSignature) => "Remove signature",
        (Lang::Fr, RemoveSignature) => "Retirer la signature",
        (Lang::En, DisplayName) => "Name shown",
        (Lang::Fr, DisplayName) => "Nom affiché",
        (Lang::En, DefaultFrom) => "Send from this address by default",
        (Lang::Fr, DefaultFrom) => "Envoyer depuis cette adresse par défaut",
        (Lang::En, SignatureOf) => "Signature of",
        (Lang::Fr, SignatureOf) => "Signature de",
    }
}

/// The language of the page being rendered: from the request on the server, from `<html lang>`
/// in the browser.
pub fn current_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(Lang::from_accept_language)
            })
            .unwrap_or(Lang::En)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|root| root.get_attribute("lang"))
            .map(|code| Lang::from_code(&code))
            .unwrap_or(Lang::En)
    }
}

/// The language provided by [`crate::App`].
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_else(current_lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_range() {
        for (header, want) in [
            ("fr-FR,fr;q=0.9,en;q=0.8", Lang::Fr),
            ("fr", Lang::Fr),
            ("FR-ca", Lang::Fr),
            ("en-US,en;q=0.9,fr;q=0.8", Lang::En),
            ("de-DE,de;q=0.9", Lang::En),
            ("en;q=0.5, fr;q=0.9", Lang::Fr),
            ("fr;q=0, en", Lang::En),
            ("", Lang::En),
            ("*", Lang::En),
            (";;,,", Lang::En),
        ] {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    /// Every key, not a sample: each has a text in both languages, and the French one is not
    /// the English left behind by copy and paste, except for the words both languages share.
    #[test]
    fn every_key_has_both_languages() {
        let same_in_both =
            [Key::AppName, Key::Messages, Key::Cc, Key::Date, Key::Signatures, Key::Pages, Key::MessagesCount];
        assert!(Key::ALL.len() > 40);
        for &key in Key::ALL {
            let (en, fr) = (t(Lang::En, key), t(Lang::Fr, key));
            assert!(!en.trim().is_empty() && !fr.trim().is_empty(), "{key:?}");
            assert_eq!(en == fr, same_in_both.contains(&key), "{key:?}: {en:?} / {fr:?}");
        }
    }
}
