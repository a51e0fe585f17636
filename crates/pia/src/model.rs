//! The typed model of `pia/inventory.toml`. Every table refuses unknown keys,
//! so a misspelt field is an error rather than a silently missing promise.
//! `pia/README.md` documents each field for people who edit the file.
use serde::Deserialize;

/// The whole inventory file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Format version of this file; this crate reads version 1.
    pub schema_version: u32,
    pub meta: Meta,
    #[serde(default, rename = "purpose")]
    pub purposes: Vec<Purpose>,
    #[serde(default, rename = "role")]
    pub roles: Vec<Role>,
    #[serde(default, rename = "element")]
    pub elements: Vec<Element>,
    #[serde(default, rename = "scope")]
    pub scopes: Vec<Scope>,
    #[serde(default, rename = "relying_party")]
    pub relying_parties: Vec<RelyingParty>,
    #[serde(default, rename = "processor")]
    pub processors: Vec<Processor>,
    #[serde(default, rename = "obligation")]
    pub obligations: Vec<Obligation>,
    /// The assessment's risks (step 3), each with its control and test.
    #[serde(default, rename = "risk")]
    pub risks: Vec<Risk>,
    /// The committee's consultations (A-2.1 s. 63.5 para. 2), as recorded.
    #[serde(default, rename = "consultation")]
    pub consultations: Vec<Consultation>,
    /// The PIA's own floors and ceilings on retention, per kind of element.
    #[serde(default, rename = "retention_rule")]
    pub retention_rules: Vec<RetentionRule>,
    /// Subjects the PIA forbids on top of the compiled-in ones
    /// ([`crate::forbidden::SUBJECTS`]); it cannot remove any of those.
    #[serde(default, rename = "forbidden_subject")]
    pub forbidden_subjects: Vec<ForbiddenSubject>,
    /// Deliberate exceptions to a forbidden subject, each citing a
    /// consultation; refused anyway unless sqin-pia is built with the
    /// `forbidden-exceptions` feature.
    #[serde(default, rename = "forbidden_exception")]
    pub forbidden_exceptions: Vec<ForbiddenException>,
}

/// Who is accountable for the assessment and how current it is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub title: String,
    /// The public body accountable for the system (the deploying ministry).
    pub body: String,
    /// Who answers for the assessment (the person in charge of the protection
    /// of personal information, A-2.1 s. 8).
    pub contact: String,
    pub revision: String,
    /// Date of the last review, `YYYY-MM-DD`.
    pub updated: String,
    pub status: DocumentStatus,
    /// The law's obligations are read from this table (rows of
    /// `../shared/privacy-law.md` at the time of writing).
    pub obligations_source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentStatus {
    /// Being written with the code; not yet submitted to the committee.
    Draft,
    /// Submitted to the body's access and privacy committee.
    Submitted,
    /// Approved by the committee.
    Approved,
}

/// Why personal information is collected or used. Elements point here; a use
/// not listed here is a secondary use (A-2.1 s. 65.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    pub title: String,
    pub description: String,
}

/// Who may see or act on personal information.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub kind: RoleKind,
    pub description: String,
    /// The role's name in code (staff tools), when the code enforces it.
    #[serde(default)]
    pub code_role: Option<String>,
    /// Training required before the role is granted (A-2.1 s. 63.3).
    #[serde(default)]
    pub training: Option<String>,
    /// What a member of staff acting in this role may do in the staff plane
    /// (`file.lookup`, `recovery.approve`, ...): the code's actions, granted
    /// here and nowhere else. Which elements a look-up shows comes from each
    /// element's `roles` table.
    #[serde(default)]
    pub actions: Vec<String>,
    /// The purposes (ids of `[[purpose]]`) this role may state to open a
    /// citizen's file; a look-up names one of them and a reference.
    #[serde(default)]
    pub lookup_purposes: Vec<String>,
    /// The roles this role may grant: a grant it requests must be approved
    /// by another member of staff whose role may grant it too.
    #[serde(default)]
    pub may_grant: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    /// The person the information is about.
    Person,
    /// A member of the body's personnel.
    Staff,
    /// An oversight body outside the deploying body.
    Oversight,
    /// Software acting without a person (sqin itself, a relying party).
    System,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Person => "person",
            RoleKind::Staff => "staff",
            RoleKind::Oversight => "oversight",
            RoleKind::System => "system",
        }
    }
}

/// One personal-information element: a field, a record or a derived value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Element {
    /// `aggregate.field` (`citizen.given_name`) or a single name
    /// (`pairwise_subject`); lower case, digits and `_`.
    pub id: String,
    pub description: String,
    pub category: Category,
    pub sensitivity: Sensitivity,
    pub sensitivity_reason: String,
    /// Where it comes from (the register, the citizen, generated by sqin).
    pub source: String,
    /// Why it is necessary (A-2.1 s. 64); what would break without it.
    pub necessity: String,
    /// Ids of `[[purpose]]` entries.
    pub purposes: Vec<String>,
    pub legal_basis: String,
    /// See [`crate::Retention`] for the grammar.
    pub retention: String,
    /// The event that starts (or, with a condition, ends) the clock, in words.
    pub retention_trigger: String,
    pub destruction: Destruction,
    /// `table.column`, `ledger`, `log`, `memory` (never persisted) or `none`
    /// (derived on demand).
    pub storage: String,
    /// How it is protected where it is kept.
    pub protection: String,
    /// How many: one per citizen, per sign-in... (A-2.1 s. 63.5 para. 4).
    pub quantity: String,
    /// True when a citizen may have no value (an optional register column).
    #[serde(default)]
    pub optional: bool,
    /// Who may do what with it.
    pub roles: Vec<Access>,
    /// The OpenID Connect claim that discloses it, if any.
    #[serde(default)]
    pub disclosed_as_claim: Option<String>,
    /// For a derived element: the elements it is computed from.
    #[serde(default)]
    pub derived_from: Vec<String>,
    /// Whether it is ever kept or released outside Québec (A-2.1 s. 70.1).
    pub outside_quebec: bool,
    /// Not in the code yet; exempt from the code check.
    #[serde(default)]
    pub planned: bool,
    /// The issue that will add it (required when planned).
    #[serde(default)]
    pub issue: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Identity,
    Contact,
    Authentication,
    Consent,
    Audit,
    Technical,
}

impl Category {
    /// Every category: the schema's closed list.
    pub const ALL: [Category; 6] = [
        Category::Identity,
        Category::Contact,
        Category::Authentication,
        Category::Consent,
        Category::Audit,
        Category::Technical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Identity => "identity",
            Category::Contact => "contact",
            Category::Authentication => "authentication",
            Category::Consent => "consent",
            Category::Audit => "audit",
            Category::Technical => "technical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sensitivity {
    Low,
    Medium,
    High,
}

impl Sensitivity {
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Medium => "medium",
            Sensitivity::High => "high",
        }
    }
}

/// How an element is destroyed when its retention ends (A-2.1 s. 73).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destruction {
    /// The row or value is deleted (and ages out of backups).
    Delete,
    /// The key that decrypts it is destroyed; the ciphertext may remain.
    CryptoShred,
    /// Replaced irreversibly by a value that no longer identifies anyone.
    Anonymise,
}

impl Destruction {
    pub fn as_str(self) -> &'static str {
        match self {
            Destruction::Delete => "delete",
            Destruction::CryptoShred => "crypto-shred",
            Destruction::Anonymise => "anonymise",
        }
    }
}

/// One role's access to an element.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Id of a `[[role]]`.
    pub role: String,
    pub access: Vec<AccessKind>,
    /// When the access is allowed ("own record only", "with the citizen's
    /// approval", "logged").
    #[serde(default)]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessKind {
    /// Records a new value.
    Create,
    /// Sees the value in clear.
    Read,
    /// Corrects the value.
    Update,
    /// Destroys the value.
    Delete,
    /// Checks a presented value against it without seeing it.
    Verify,
    /// Obtains it by disclosure (a relying party, through a claim).
    Receive,
    /// Sees that it exists and can check its integrity, not its content.
    Audit,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Create => "create",
            AccessKind::Read => "read",
            AccessKind::Update => "update",
            AccessKind::Delete => "delete",
            AccessKind::Verify => "verify",
            AccessKind::Receive => "receive",
            AccessKind::Audit => "audit",
        }
    }

    /// One letter for the access matrix.
    pub fn letter(self) -> char {
        match self {
            AccessKind::Create => 'C',
            AccessKind::Read => 'R',
            AccessKind::Update => 'U',
            AccessKind::Delete => 'D',
            AccessKind::Verify => 'V',
            AccessKind::Receive => 'X',
            AccessKind::Audit => 'A',
        }
    }
}

/// An OAuth scope and the claims it carries, as the PIA approves them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub name: String,
    pub claims: Vec<String>,
    pub description: String,
}

/// A service that receives claims.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelyingParty {
    /// The entry's id: clients name it (`pia_entry`); a demonstration
    /// client's `client_id` is the same.
    pub id: String,
    /// Its name (English).
    pub name: String,
    /// The same name in French, when it differs.
    #[serde(default)]
    pub name_fr: String,
    /// The public body that runs it.
    pub body: String,
    /// Its registered purpose, as shown to the citizen (English).
    pub purpose: String,
    /// The same purpose in French.
    #[serde(default)]
    pub purpose_fr: String,
    /// What allows the disclosure to it, as the consent page tells the
    /// citizen (English).
    pub legal_basis: String,
    /// The same legal basis in French.
    #[serde(default)]
    pub legal_basis_fr: String,
    /// Scopes it may be registered for.
    pub scopes: Vec<String>,
    /// The claims its purpose needs; nothing else is released to it.
    pub claims: Vec<String>,
    /// Its pairwise sector (a host name): services in different sectors
    /// never receive the same `sub` for a citizen.
    #[serde(default)]
    pub sector: String,
    /// The hosts its URIs (redirect, logout, keys) may use: a host, or
    /// `*.domain` for any subdomain.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// `pairwise` (the default) or `public`.
    pub subject_type: String,
    /// Why it needs a public `sub`, required when `subject_type` is public.
    #[serde(default)]
    pub public_subject_reason: Option<String>,
    /// Synthetic demonstration service, never real people.
    #[serde(default)]
    pub demo: bool,
    #[serde(default)]
    pub planned: bool,
    #[serde(default)]
    pub issue: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Hosting or a service provider that keeps or handles personal information
/// for the body (A-2.1 s. 67.2, s. 70.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processor {
    pub id: String,
    pub name: String,
    pub service: String,
    pub location: String,
    pub outside_quebec: bool,
    /// Element ids it handles.
    pub elements: Vec<String>,
    /// The written agreement (mandate or contract) and its state.
    pub agreement: String,
    /// Path (from the repository root) of the s. 70.1 assessment; required
    /// when `outside_quebec` is true.
    #[serde(default)]
    pub assessment: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// One row of the law's table: where sqin meets it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// Row number in the obligations table (1..=21).
    pub row: u32,
    pub title: String,
    pub article: String,
    /// The document that answers it, relative to the repository root.
    pub artifact: String,
    /// Further documents, likewise.
    #[serde(default)]
    pub see_also: Vec<String>,
    /// What in code enforces it, by crate and module.
    pub control: String,
    /// `path/to/file.rs::test_name`, or `planned`.
    pub test: String,
    pub status: ObligationStatus,
    /// The issue that will finish it; required unless implemented.
    #[serde(default)]
    pub issue: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObligationStatus {
    Implemented,
    Partial,
    Planned,
}

impl ObligationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationStatus::Implemented => "implemented",
            ObligationStatus::Partial => "partial",
            ObligationStatus::Planned => "planned",
        }
    }
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Draft => "draft",
            DocumentStatus::Submitted => "submitted",
            DocumentStatus::Approved => "approved",
        }
    }
}

/// One risk of the assessment (pia/assessment.md, step 3): rated before and
/// after its measures, with the code that controls it and the test that
/// shows the control works.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// `R1`, `R2`...: what the assessment's prose and the threat model cite.
    pub id: String,
    pub title: String,
    /// Likelihood and severity before the measures, 1 to 4 each.
    pub likelihood: u8,
    pub impact: u8,
    /// The main measures, in a line.
    pub measures: String,
    /// Likelihood and severity once the measures are in place.
    pub residual_likelihood: u8,
    pub residual_impact: u8,
    /// The code that controls it: a path from the repository root
    /// (`crates/oidc/src/subject.rs`).
    pub control: String,
    /// `path/to/file.rs::test_name`: the test that shows the control works.
    pub test: String,
    pub status: RiskStatus,
    /// What will finish it; required unless mitigated or closed.
    #[serde(default)]
    pub issue: Option<String>,
}

impl Risk {
    /// Likelihood × severity before the measures.
    pub fn level(&self) -> u32 {
        u32::from(self.likelihood) * u32::from(self.impact)
    }

    /// Likelihood × severity once the measures are in place.
    pub fn residual_level(&self) -> u32 {
        u32::from(self.residual_likelihood) * u32::from(self.residual_impact)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskStatus {
    /// Its measures are not in place yet.
    Open,
    /// Some of its measures are in place, others planned.
    Partial,
    /// Its measures are in place; the residual level stands.
    Mitigated,
    /// It no longer applies (what caused it was removed).
    Closed,
}

impl RiskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskStatus::Open => "open",
            RiskStatus::Partial => "partial",
            RiskStatus::Mitigated => "mitigated",
            RiskStatus::Closed => "closed",
        }
    }
}

/// One consultation of the committee on access to information and the
/// protection of personal information, as `consultations.md` records it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consultation {
    /// `C1`, `C2`...
    pub id: String,
    /// `YYYY-MM-DD`: when it was (or is to be) held.
    pub date: String,
    /// The `meta.revision` of the assessment presented.
    pub revision: String,
    /// The stage of the project, in words.
    pub stage: String,
    pub status: ConsultationStatus,
    /// What the committee decided, once held.
    #[serde(default)]
    pub decision: Option<ConsultationDecision>,
    /// Where it is recorded: a path from the repository root, optionally
    /// with a `#fragment` (`pia/consultations.md#consultation-1`).
    pub record: String,
    /// The entries it was consulted on (`element citizen.email`,
    /// `relying_party health-card`, `purpose enrolment`...), each covering
    /// every change to that entry, or single changes by the keys
    /// `sqin pia diff` prints (`rp-claim-added:health-card:birthdate`).
    #[serde(default)]
    pub covers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsultationStatus {
    /// Prepared, not held yet.
    Planned,
    /// Held; its record holds the committee's recommendations.
    Held,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsultationDecision {
    /// The committee approved the assessment at this revision.
    Approved,
    /// The committee took note and asked for changes or a new consultation.
    Noted,
    /// The committee refused it.
    Refused,
}

/// The PIA's own bounds on how long a kind of element is kept. An element
/// is of the rule's kind when its category is `category`, or its id matches
/// one of `elements` (`ledger.*` matches every id that starts `ledger.`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub id: String,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub elements: Vec<String>,
    /// The shortest period an element of this kind may be kept once its
    /// trigger occurs (an ISO 8601 duration).
    #[serde(default)]
    pub floor: Option<String>,
    /// The longest.
    pub ceiling: String,
    /// Why: the law, the retention schedule, or the PIA's own reasoning.
    pub reason: String,
}

/// A subject the PIA forbids in addition to the compiled-in ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenSubject {
    /// A new id, or the id of a compiled-in subject to add terms to.
    pub id: String,
    pub title: String,
    /// Words and phrases, French or English: `religi*` is a stem (every
    /// word that starts so), `party member` a phrase. Case and accents do
    /// not matter.
    pub terms: Vec<String>,
    /// A profiling purpose: matched against purposes only.
    #[serde(default)]
    pub profiling: bool,
}

/// A deliberate exception to a forbidden subject, for one entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenException {
    /// The forbidden subject's id.
    pub subject: String,
    /// The entry it covers, as problems name it: `element`, `purpose`,
    /// `scope` or `relying_party`, and its id.
    pub table: String,
    pub id: String,
    /// The `[[consultation]]` that decided it.
    pub consultation: String,
    pub reason: String,
}

impl Element {
    /// Whether the element is persisted (a column, the ledger or a log), as
    /// opposed to held in memory or derived on demand.
    pub fn is_stored(&self) -> bool {
        !matches!(self.storage.as_str(), "memory" | "none")
    }
}
