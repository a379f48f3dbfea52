//! Paging of listings. Items are filtered (by state and by what the caller
//! may see) before they are paged, and page tokens are opaque: the position
//! they carry is encoded with the listing it belongs to, never shown as a
//! name, and a token from another listing is refused.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::Error;

/// Default number of items in a page.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest number of items in a page.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Which page of a listing: how many items, after which one.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Items per page; 0 for the default.
    pub size: i32,
    /// The `next_token` of the previous page, or empty for the first.
    pub token: String,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token of the next page; empty on the last one.
    pub next_token: String,
}

impl PageRequest {
    /// The page size asked for, within the limits.
    pub fn size(&self) -> Result<usize, Error> {
        match usize::try_from(self.size) {
            Err(_) => Err(Error::InvalidArgument {
                what: "page_size",
                reason: format!("page_size {} is negative", self.size),
            }),
            Ok(0) => Ok(DEFAULT_PAGE_SIZE),
            Ok(n) => Ok(n.min(MAX_PAGE_SIZE)),
        }
    }

    /// The position after which the page starts, for `listing`; `None` for
    /// the first page.
    pub fn after(&self, listing: &str) -> Result<Option<String>, Error> {
        if self.token.is_empty() {
            return Ok(None);
        }
        decode(listing, &self.token).map(Some)
    }
}

/// The token of a page of `listing` that continues after `position`.
pub fn encode(listing: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{listing}\n{position}"))
}

fn decode(listing: &str, token: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidArgument {
        what: "page_token",
        reason: format!(
            "page token {:?} was not given by this listing; pass the next_page_token of the previous page, or none",
            truncate(token)
        ),
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (kind, position) = text.split_once('\n').ok_or_else(invalid)?;
    if kind != listing {
        return Err(invalid());
    }
    Ok(position.to_owned())
}

/// At most 64 characters of caller-given text, for error messages.
pub fn truncate(text: &str) -> String {
    truncate_to(text, 64)
}

/// At most `max` characters of `text`, saying how long it was when cut.
pub fn truncate_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}… ({} bytes in all)", &text[..at], text.len()),
        None => text.to_owned(),
    }
}

/// Pages `items` (already filtered, in order, after the start position):
/// at most `size`, with the token of the next page when there are more.
pub fn paginate<T>(
    items: impl Iterator<Item = T>,
    size: usize,
    listing: &str,
    position: impl Fn(&T) -> String,
) -> Page<T> {
    let mut items: Vec<T> = items.take(size + 1).collect();
    let next_token = if items.len() > size {
        items.truncate(size);
        items
            .last()
            .map(|last| encode(listing, &position(last)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Page { items, next_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hide_the_position_and_belong_to_one_listing() {
        let token = encode("components", "billing");
        assert!(!token.contains("billing"), "{token}");
        let request = PageRequest {
            size: 0,
            token: token.clone(),
        };
        assert_eq!(request.after("components").unwrap().as_deref(), Some("billing"));
        assert!(request.after("contracts/orders").is_err());
        let forged = PageRequest {
            size: 0,
            token: "billing".into(),
        };
        assert!(forged.after("components").is_err());
    }

    #[test]
    fn a_page_stops_at_its_size_with_a_token_for_the_rest() {
        let page = paginate(1..=5, 2, "n", |n| n.to_string());
        assert_eq!(page.items, [1, 2]);
        let after = PageRequest {
            size: 2,
            token: page.next_token,
        }
        .after("n")
        .unwrap();
        assert_eq!(after.as_deref(), Some("2"));
        let last = paginate(4..=5, 2, "n", |n| n.to_string());
        assert!(last.next_token.is_empty());
    }

    #[test]
    fn long_text_is_truncated_in_messages() {
        assert_eq!(truncate("short"), "short");
        let long = "x".repeat(1000);
        let cut = truncate(&long);
        assert!(
            cut.starts_with(&"x".repeat(64)) && !cut.starts_with(&"x".repeat(65)),
            "{cut}"
        );
        assert!(cut.contains("1000 bytes"), "{cut}");
    }
}
