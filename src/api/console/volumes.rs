//! The transfer volume counters against their thresholds, as the ledger page charts them.

use maud::{Markup, html};

/// Each volume counter against its thresholds: a bar towards the next threshold it has not
/// reached (the numbers as text too, the bar labelled for screen readers).
pub(super) fn chart(counters: &[crate::transfers::summary::Summary]) -> Markup {
    html! {
        section aria-labelledby="volumes" {
            h2 #volumes { "Transfer volumes against their thresholds" }
            @if counters.is_empty() { p { "Nothing counted yet." } } @else {
                table.volumes {
                    caption { "Counters (TRANSFERS.md): the count, its thresholds, and how near the next one it is" }
                    thead { tr { th scope="col" { "Counter" } th scope="col" { "Window" } th scope="col" { "Count" } th scope="col" { "Thresholds" } th scope="col" { "Towards the next threshold" } } }
                    tbody { @for c in counters {
                        @let (next, share) = towards(c.count, &c.thresholds);
                        @let label = match next {
                            Some(t) => format!("{share} % of the next threshold, {t}"),
                            None => "past every threshold".to_owned(),
                        };
                        tr {
                            td { code { (c.key) } }
                            td { (c.window) }
                            td { (c.count) }
                            td { (c.thresholds.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" · ")) }
                            td {
                                svg.bar width="200" height="16" role="img" aria-label=(label) {
                                    rect x="0" y="0" width="200" height="16" class="track" {}
                                    rect x="0" y="0" width=(share * 2) height="16" class={ "fill" @if next.is_none() { " past" } } {}
                                }
                                " " (label)
                            }
                        }
                    } }
                }
            }
        }
    }
}

/// The next threshold `count` has not reached, and the count as a percentage of it (of the
/// highest threshold once past them all).
fn towards(count: i64, thresholds: &[i64]) -> (Option<i64>, u32) {
    let next = thresholds.iter().copied().filter(|t| count < *t).min();
    let scale = next.or(thresholds.iter().copied().max()).unwrap_or(0);
    let share = if scale > 0 {
        (count.clamp(0, scale) * 100 / scale) as u32
    } else {
        0
    };
    (next, share)
}

#[test]
fn a_counter_is_shown_against_the_next_threshold_it_has_not_reached() {
    let pipl = [100_000, 1_000_000];
    assert_eq!(towards(99_999, &pipl), (Some(100_000), 99));
    assert_eq!(
        towards(100_000, &pipl),
        (Some(1_000_000), 10),
        "reached: the next one"
    );
    assert_eq!(towards(999_999, &pipl), (Some(1_000_000), 99));
    assert_eq!(
        towards(1_000_000, &pipl),
        (None, 100),
        "past every threshold"
    );
    assert_eq!(towards(5, &[]), (None, 0));
}
