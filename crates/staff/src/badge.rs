//! Badges: what a citizen sees of the member of staff who opened their file
//! ("Agent 4F2K"), enough to name the person in a complaint without giving
//! out their name.

/// Letters and digits that cannot be mistaken for one another when read out
/// on the phone.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A badge from four random bytes: `Agent` and four characters.
pub fn badge(random: [u8; 4]) -> String {
    let tail: String = random
        .iter()
        .map(|b| {
            let i = usize::from(*b) % ALPHABET.len();
            char::from(ALPHABET.get(i).copied().unwrap_or(b'X'))
        })
        .collect();
    format!("Agent {tail}")
}

/// Whether `text` has the shape of a badge.
pub fn is_badge(text: &str) -> bool {
    text.strip_prefix("Agent ")
        .is_some_and(|t| t.len() == 4 && t.bytes().all(|b| ALPHABET.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_are_readable() {
        let b = badge([0, 1, 31, 200]);
        assert_eq!(b, "Agent AB9J");
        assert!(is_badge(&b));
        assert!(!is_badge("Agent ab9j"));
        assert!(!is_badge("Agent 0O1I"));
    }
}
