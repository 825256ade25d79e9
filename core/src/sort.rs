//! One stable sort for the whole crate.
//!
//! The standard library's stable sort is generic over the element type and
//! the comparison, so every `sort_by` call site links its own few kilobytes
//! of sorting code; in the editor's WebAssembly build six of them cost more
//! than the sorting is worth. [`sort_by`] sorts indices instead, through a
//! single instantiation of the standard sort, and then moves the items into
//! place. The result is exactly the standard stable sort's.

use std::cmp::Ordering;

/// Sorts `items` stably by `compare`, like [`slice::sort_by`].
pub(crate) fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = {
        let items = &*items;
        sorted_indices(
            items.len(),
            &mut |a, b| match (items.get(a), items.get(b)) {
                (Some(a), Some(b)) => compare(a, b),
                _ => Ordering::Equal,
            },
        )
    };
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// Sorts `items` stably by the key `key` gives, like [`slice::sort_by_key`].
pub(crate) fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// `0..len` ordered stably by `compare` (the one instantiation of the
/// standard sort).
#[inline(never)]
fn sorted_indices(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_like_the_standard_stable_sort(items in proptest::collection::vec((0u8..8, any::<u16>()), 0..200)) {
            let mut ours = items.clone();
            sort_by_key(&mut ours, |&(key, _)| key);
            let mut std = items;
            std.sort_by_key(|&(key, _)| key);
            prop_assert_eq!(ours, std);
        }
    }

    #[test]
    fn sorts_owned_values_without_losing_any() {
        let mut words = vec![
            "pear".to_owned(),
            "fig".to_owned(),
            "apple".to_owned(),
            "kiwi".to_owned(),
        ];
        sort_by(&mut words, |a, b| a.len().cmp(&b.len()));
        assert_eq!(words, ["fig", "pear", "kiwi", "apple"]);
    }
}
