//! From roster to cards: who gets a card, in which order, with what on it.
//!
//! [`plan`] applies the selection (`--school`, `--class`, `--user`, `--role`) and groups the
//! chosen users by class — the unit a teacher hands out — sorted by class name, then family
//! name. [`issue`] signs one card per user and fills in the printed words ([`CardFace`]).
//! Selections that match nobody, or name a school, class or user the roster does not have, are
//! errors: an empty PDF helps no one.

use std::cmp::Ordering;
use std::collections::HashSet;

use quickcard::{Claims, Flags, IssuerKey, Role};
use quickcard_roster::{Class, Roster, School, User};
use rayon::prelude::*;
use thiserror::Error;

use crate::design::CardFace;

/// Which users to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only users of this school (and cards are issued for it).
    pub school: Option<String>,
    /// Only users enrolled in one of these classes (any, when empty).
    pub classes: Vec<String>,
    /// Only these users (any, when empty).
    pub users: Vec<String>,
    /// Only users with this role.
    pub role: Option<Role>,
}

/// A selection that cannot be printed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("the roster has no school {0:?}")]
    UnknownSchool(String),
    #[error("the roster has no class {0:?}")]
    UnknownClass(String),
    #[error("the roster has no user {0:?}")]
    UnknownUser(String),
    #[error(
        "user {0:?} is disabled in the roster (enabledUser=false); no card is printed for them"
    )]
    DisabledUser(String),
    #[error("user {user:?} belongs to no school in the roster; pass --school to print their card")]
    NoSchool { user: String },
    #[error("the selection matches nobody{0}")]
    Empty(String),
}

/// One user's card-to-be.
#[derive(Debug, Clone)]
pub struct Planned<'r> {
    pub user: &'r User,
    pub school: &'r School,
}

/// Cards for one class (or, with `class: None`, the users of a school without a class).
#[derive(Debug, Clone)]
pub struct Group<'r> {
    pub class: Option<&'r Class>,
    pub school: &'r School,
    pub cards: Vec<Planned<'r>>,
}

/// A caseless sort key that keeps accented names next to their plain spellings
/// ("Ávila" with "Avila", before "Baker").
pub fn sort_key(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'ễ' | 'ệ' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'ơ' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' => 's',
            'ť' | 'ţ' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ư' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            other => other,
        })
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect()
}

fn by_name(a: &User, b: &User) -> Ordering {
    (sort_key(&a.family_name), sort_key(&a.given_name), &a.id).cmp(&(
        sort_key(&b.family_name),
        sort_key(&b.given_name),
        &b.id,
    ))
}

/// Chooses and groups the users to print. Each selected user gets exactly one card, under the
/// first of their classes that the selection allows (OneRoster enrolment order), or under "no
/// class" when they have none (staff, administrators).
pub fn plan<'r>(roster: &'r Roster, sel: &Selection) -> Result<Vec<Group<'r>>, SelectError> {
    if let Some(s) = &sel.school
        && roster.school(s).is_none()
    {
        return Err(SelectError::UnknownSchool(s.clone()));
    }
    for c in &sel.classes {
        if roster.class(c).is_none() {
            return Err(SelectError::UnknownClass(c.clone()));
        }
    }
    let mut wanted_users = HashSet::new();
    for u in &sel.users {
        let user = roster
            .user(u)
            .ok_or_else(|| SelectError::UnknownUser(u.clone()))?;
        if !user.enabled {
            return Err(SelectError::DisabledUser(user.id.clone()));
        }
        wanted_users.insert(user.id.as_str());
    }
    let wanted_classes: HashSet<&str> = sel
        .classes
        .iter()
        .filter_map(|c| roster.class(c))
        .map(|c| c.id.as_str())
        .collect();

    // (class id or "", school id) -> group index
    let mut groups: Vec<Group<'r>> = Vec::new();
    let mut index: std::collections::HashMap<(String, String), usize> = Default::default();
    for user in roster.users() {
        if !user.enabled
            || (!wanted_users.is_empty() && !wanted_users.contains(user.id.as_str()))
            || sel.role.is_some_and(|r| r != user.role)
        {
            continue;
        }
        if let Some(s) = &sel.school
            && !user.school_ids.iter().any(|x| x == s)
        {
            continue;
        }
        let class = roster.classes_of(&user.id).into_iter().find(|c| {
            (wanted_classes.is_empty() || wanted_classes.contains(c.id.as_str()))
                && sel.school.as_ref().is_none_or(|s| *s == c.school_id)
        });
        if class.is_none() && !wanted_classes.is_empty() {
            continue;
        }
        let school_id = match (class, &sel.school) {
            (Some(c), _) => c.school_id.as_str(),
            (None, Some(s)) => s.as_str(),
            (None, None) => user.primary_school().ok_or_else(|| SelectError::NoSchool {
                user: user.id.clone(),
            })?,
        };
        let Some(school) = roster.school(school_id) else {
            return Err(SelectError::UnknownSchool(school_id.to_string()));
        };
        let key = (
            class.map(|c| c.id.clone()).unwrap_or_default(),
            school.id.clone(),
        );
        let gi = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                class,
                school,
                cards: Vec::new(),
            });
            groups.len() - 1
        });
        groups[gi].cards.push(Planned { user, school });
    }
    if groups.is_empty() {
        let mut why = Vec::new();
        if let Some(s) = &sel.school {
            why.push(format!("school {s}"));
        }
        if !sel.classes.is_empty() {
            why.push(format!("class {}", sel.classes.join(", ")));
        }
        if !sel.users.is_empty() {
            why.push(format!("user {}", sel.users.join(", ")));
        }
        if let Some(r) = sel.role {
            why.push(format!("role {r}"));
        }
        let why = if why.is_empty() {
            " (the roster has no enabled users)".to_string()
        } else {
            format!(": {}", why.join(" and "))
        };
        return Err(SelectError::Empty(why));
    }
    // Classes by name (then school, id); users without a class last; people by family name.
    groups.sort_by(|a, b| {
        let key = |g: &Group| {
            (
                g.class.is_none(),
                g.class.map(|c| sort_key(&c.name)).unwrap_or_default(),
                sort_key(&g.school.name),
                g.class.map(|c| c.id.clone()).unwrap_or_default(),
            )
        };
        key(a).cmp(&key(b))
    });
    for g in &mut groups {
        g.cards.sort_by(|a, b| by_name(a.user, b.user));
    }
    Ok(groups)
}

/// Validity of the cards to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds: the end (23:59:59 UTC) of the last valid day.
    pub expires_at: u64,
    pub second_factor: bool,
}

/// Bad `--expires` values.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ExpiryError {
    #[error(transparent)]
    Date(#[from] quickcard::time::DateError),
    #[error("--expires {0} is not after today; cards would not work")]
    InPast(String),
}

/// The end (23:59:59 UTC) of the day `date` (`YYYY-MM-DD`).
pub fn end_of_day(date: &str, now: u64) -> Result<u64, ExpiryError> {
    let start = quickcard::time::parse(date.trim())?;
    if date.trim().contains('T') {
        return Err(quickcard::time::DateError(date.to_string()).into());
    }
    let end = start + 86_399;
    if end <= now {
        return Err(ExpiryError::InPast(date.to_string()));
    }
    Ok(end)
}

/// The default expiry: the end of the next June 30 (the end of the US school year), so cards
/// printed during a school year last until its end, and cards printed in July or August (for
/// the coming year) last until the end of that year.
pub fn default_expiry(now: u64) -> u64 {
    let today = quickcard::time::format_date(now);
    let year: u64 = today[..4].parse().unwrap_or(1970);
    let this = quickcard::time::parse(&format!("{year}-06-30")).unwrap_or(0) + 86_399;
    if now <= this {
        this
    } else {
        quickcard::time::parse(&format!("{}-06-30", year + 1)).unwrap_or(0) + 86_399
    }
}

/// A signed card and its printed words.
#[derive(Debug, Clone)]
pub struct IssuedGroup {
    /// Header line words.
    pub class_name: Option<String>,
    pub teachers: Vec<String>,
    pub school_name: String,
    pub faces: Vec<CardFace>,
    /// User ids, in the order of `faces`.
    pub user_ids: Vec<String>,
}

/// A card that cannot be issued.
#[derive(Debug, Error)]
#[error("user {user:?} (roster line {line}): {reason}")]
pub struct IssueError {
    pub user: String,
    pub line: u64,
    pub reason: String,
}

/// The printed face of one planned card, with a freshly signed QR text.
pub fn face_for(
    planned: &Planned<'_>,
    class: Option<&Class>,
    key: &IssuerKey,
    v: &Validity,
) -> Result<CardFace, IssueError> {
    let u = planned.user;
    let err = |reason: String| IssueError {
        user: u.id.clone(),
        line: u.line,
        reason,
    };
    let claims = Claims::new(
        &u.id,
        u.role,
        &planned.school.id,
        v.issued_at,
        v.expires_at,
        Flags {
            second_factor: v.second_factor,
        },
    )
    .map_err(|e| err(e.to_string()))?;
    let face = CardFace {
        qr_text: quickcard::sign(&claims, key),
        given_name: u.given_name.clone(),
        full_name: u.full_name(),
        role: u.role,
        second_factor: v.second_factor,
        class_name: class.map(|c| c.name.clone()),
        teachers: class.map(|c| c.teachers.clone()).unwrap_or_default(),
        school_name: planned.school.name.clone(),
        expires: quickcard::time::format_date(v.expires_at),
    };
    crate::design::check_printable(&face).map_err(|e| err(e.to_string()))?;
    Ok(face)
}

/// Signs every planned card (on all cores).
pub fn issue(
    groups: &[Group<'_>],
    key: &IssuerKey,
    v: &Validity,
) -> Result<Vec<IssuedGroup>, IssueError> {
    groups
        .iter()
        .map(|g| {
            let faces = g
                .cards
                .par_iter()
                .map(|p| face_for(p, g.class, key, v))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(IssuedGroup {
                class_name: g.class.map(|c| c.name.clone()),
                teachers: g.class.map(|c| c.teachers.clone()).unwrap_or_default(),
                school_name: g.school.name.clone(),
                user_ids: g.cards.iter().map(|p| p.user.id.clone()).collect(),
                faces,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROSTER: &str =
        "sourced_id,given_name,family_name,role,school_id,class_id,class_name,teacher,school_name
s1,Zoë,Young,student,sch-a,c2,Room 2,Ms. B,School A
s2,Ana,Ávila,student,sch-a,c2,Room 2,Ms. B,
s3,Bo,Baker,student,sch-a,c1,Room 1,Mr. A,
s4,Cy,Adams,student,sch-a,c1,Room 1,Mr. A,
t1,Mara,Bell,teacher,sch-a,c1,Room 1,Mr. A,
t1,Mara,Bell,teacher,sch-a,c2,Room 2,Ms. B,
st1,Joe,Nurse,staff,sch-a,,,,
x1,Ed,Other,student,sch-b,c9,Room 9,Mx. C,School B
";

    fn roster() -> Roster {
        Roster::from_simple_csv_bytes("r.csv", ROSTER.as_bytes()).unwrap()
    }

    fn ids<'a>(groups: &'a [Group<'a>]) -> Vec<Vec<&'a str>> {
        groups
            .iter()
            .map(|g| g.cards.iter().map(|c| c.user.id.as_str()).collect())
            .collect()
    }

    #[test]
    fn groups_by_class_then_family_name() {
        let r = roster();
        let g = plan(&r, &Selection::default()).unwrap();
        let names: Vec<Option<&str>> = g.iter().map(|g| g.class.map(|c| c.name.as_str())).collect();
        assert_eq!(
            names,
            [Some("Room 1"), Some("Room 2"), Some("Room 9"), None]
        );
        // Ávila sorts with A, before Young; the teacher appears once, in her first class.
        assert_eq!(
            ids(&g),
            [
                vec!["s4", "s3", "t1"],
                vec!["s2", "s1"],
                vec!["x1"],
                vec!["st1"]
            ]
        );
        assert_eq!(g[3].school.id, "sch-a");
    }

    #[test]
    fn selections_filter() {
        let r = roster();
        let sel = Selection {
            classes: vec!["c2".into()],
            ..Default::default()
        };
        assert_eq!(ids(&plan(&r, &sel).unwrap()), [vec!["s2", "t1", "s1"]]);
        let sel = Selection {
            role: Some(Role::Teacher),
            ..Default::default()
        };
        assert_eq!(ids(&plan(&r, &sel).unwrap()), [vec!["t1"]]);
        let sel = Selection {
            school: Some("sch-b".into()),
            ..Default::default()
        };
        assert_eq!(ids(&plan(&r, &sel).unwrap()), [vec!["x1"]]);
        let sel = Selection {
            users: vec!["s1".into(), "st1".into()],
            ..Default::default()
        };
        assert_eq!(ids(&plan(&r, &sel).unwrap()), [vec!["s1"], vec!["st1"]]);
    }

    #[test]
    fn bad_selections_are_errors() {
        let r = roster();
        let e = |sel: Selection| plan(&r, &sel).unwrap_err();
        assert_eq!(
            e(Selection {
                school: Some("nope".into()),
                ..Default::default()
            }),
            SelectError::UnknownSchool("nope".into())
        );
        assert_eq!(
            e(Selection {
                classes: vec!["c404".into()],
                ..Default::default()
            }),
            SelectError::UnknownClass("c404".into())
        );
        assert_eq!(
            e(Selection {
                users: vec!["u404".into()],
                ..Default::default()
            }),
            SelectError::UnknownUser("u404".into())
        );
        // Both exist, but nobody matches both.
        let err = e(Selection {
            classes: vec!["c1".into()],
            role: Some(Role::Staff),
            ..Default::default()
        });
        assert!(matches!(err, SelectError::Empty(_)));
        assert!(err.to_string().contains("class c1 and role staff"), "{err}");
    }

    #[test]
    fn expiry_defaults_to_the_next_june_30() {
        let t = |s: &str| quickcard::time::parse(s).unwrap();
        assert_eq!(
            default_expiry(t("2026-11-25T09:00:00Z")),
            t("2027-06-30T23:59:59Z")
        );
        assert_eq!(default_expiry(t("2027-03-01")), t("2027-06-30T23:59:59Z"));
        assert_eq!(
            default_expiry(t("2027-06-30T12:00:00Z")),
            t("2027-06-30T23:59:59Z")
        );
        assert_eq!(default_expiry(t("2027-07-01")), t("2028-06-30T23:59:59Z"));
        // The longest default (printed on July 1) stays within the verifiers' maximum.
        let now = t("2027-07-01");
        assert!(default_expiry(now) - now <= quickcard::DEFAULT_MAX_CARD_LIFETIME_SECS);
        let now = t("2026-11-25");
        assert_eq!(
            end_of_day("2027-01-31", now).unwrap(),
            t("2027-01-31T23:59:59Z")
        );
        assert!(matches!(
            end_of_day("2026-02-30", now),
            Err(ExpiryError::Date(_))
        ));
        assert!(matches!(
            end_of_day("31/01/2027", now),
            Err(ExpiryError::Date(_))
        ));
        assert_eq!(
            end_of_day("2026-11-24", now).unwrap_err(),
            ExpiryError::InPast("2026-11-24".into())
        );
    }

    #[test]
    fn issued_cards_verify_and_carry_the_roster_words() {
        let r = roster();
        let g = plan(&r, &Selection::default()).unwrap();
        let key = IssuerKey::demo();
        let v = Validity {
            issued_at: 1_790_000_000,
            expires_at: 1_800_000_000,
            second_factor: false,
        };
        let issued = issue(&g, &key, &v).unwrap();
        let f = &issued[1].faces[1];
        assert_eq!(f.full_name, "Zoë Young");
        assert_eq!(f.class_name.as_deref(), Some("Room 2"));
        assert_eq!(f.teachers, ["Ms. B"]);
        assert_eq!(f.school_name, "School A");
        let trust =
            quickcard::TrustList::new(vec![quickcard::TrustedKey::new(key.public(), "demo")], true)
                .unwrap();
        let opts = quickcard::VerifyOptions {
            now: 1_795_000_000,
            skew_secs: 0,
            school: Some("sch-a".into()),
            ..quickcard::VerifyOptions::default()
        };
        let card = quickcard::verify(f.qr_text.as_bytes(), &trust, &opts).unwrap();
        assert_eq!(card.claims.subject.to_string(), "s1");
    }
}
