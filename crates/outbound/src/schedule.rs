//! When a deferred recipient is tried again, when its sender is told it is late, and when it
//! is given up: `--queue-retry`, `--queue-warn-after`, `--queue-lifetime`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The wait after the first failed attempt, the second..., the last repeated.
    pub retry_delays: Vec<Duration>,
    /// After this long in the queue the sender is told the message is late (once).
    pub warn_after: Duration,
    /// After this long in the queue a recipient still deferred fails for good.
    pub lifetime: Duration,
}

impl Default for Schedule {
    /// 5 min, 15 min, 1 h, then every 4 h; warned after 4 h; given up after 5 days.
    fn default() -> Schedule {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Schedule {
            retry_delays: vec![minutes(5), minutes(15), minutes(60), minutes(240)],
            warn_after: minutes(240),
            lifetime: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl Schedule {
    /// When to try again after the failure of attempt number `attempts + 1` (unix seconds),
    /// or `None` once the message has been queued for its whole lifetime. The last try falls
    /// on the lifetime's end rather than after it.
    pub fn next_attempt(&self, attempts: u32, created_at: i64, now: i64) -> Option<i64> {
        let expires = created_at.saturating_add(self.lifetime.as_secs() as i64);
        if now >= expires {
            return None;
        }
        let last = self.retry_delays.len().saturating_sub(1);
        let delay = self.retry_delays.get((attempts as usize).min(last)).copied().unwrap_or(Duration::from_secs(300));
        Some(now.saturating_add(delay.as_secs().max(1) as i64).min(expires))
    }

    /// Whether a message queued at `created_at` and still deferred is late enough to tell its
    /// sender.
    pub fn warn_now(&self, created_at: i64, now: i64) -> bool {
        now - created_at >= self.warn_after.as_secs() as i64
    }

    pub fn lifetime_text(&self) -> String {
        duration_text(self.lifetime)
    }
}

/// Reads a duration as the options write it: `90s`, `5m`, `4h`, `5d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit (s, m, h, d)"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// Reads a list of durations: `5m,15m,1h,4h`.
pub fn parse_durations(text: &str) -> Result<Vec<Duration>, String> {
    let delays: Vec<Duration> = text.split(',').map(parse_duration).collect::<Result<_, _>>()?;
    if delays.is_empty() || delays.iter().any(Duration::is_zero) {
        return Err(format!("{text:?}: give one or more delays, none of them zero"));
    }
    Ok(delays)
}

/// A duration as a person reads it, in its largest whole unit.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s % 86400 == 0 && s > 0 => format!("{} days", s / 86400),
        s if s % 3600 == 0 && s > 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_repeat_the_last_delay_until_the_lifetime_ends() {
        let schedule = Schedule::default();
        let created = 1_000_000;
        assert_eq!(schedule.next_attempt(0, created, created), Some(created + 300));
        assert_eq!(schedule.next_attempt(1, created, created + 300), Some(created + 300 + 900));
        assert_eq!(schedule.next_attempt(2, created, created + 1200), Some(created + 1200 + 3600));
        assert_eq!(schedule.next_attempt(3, created, created + 4800), Some(created + 4800 + 14400));
        assert_eq!(schedule.next_attempt(9, created, created + 100_000), Some(created + 100_000 + 14400));
        let five_days = 5 * 86400;
        assert_eq!(schedule.next_attempt(30, created, created + five_days - 60), Some(created + five_days));
        assert_eq!(schedule.next_attempt(31, created, created + five_days), None);
    }

    #[test]
    fn the_sender_is_warned_after_four_hours() {
        let schedule = Schedule::default();
        assert!(!schedule.warn_now(0, 4 * 3600 - 1));
        assert!(schedule.warn_now(0, 4 * 3600));
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(14400)));
        assert_eq!(
            parse_durations("5m,15m,1h"),
            Ok(vec![Duration::from_secs(300), Duration::from_secs(900), Duration::from_secs(3600)])
        );
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_durations("0s").is_err());
        assert_eq!(duration_text(Duration::from_secs(5 * 86400)), "5 days");
    }
}
