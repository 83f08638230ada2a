//! A tiny seeded random number generator (SplitMix64), so the output never depends on a crate's
//! algorithm changing between versions.

/// SplitMix64: 64 bits of state, good enough to vary proportions and palettes.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from a name, so each creature keeps its look when others are added.
    pub fn from_name(name: &str) -> Self {
        // FNV-1a over the bytes gives a stable 64-bit seed.
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A float in `[lo, hi)`.
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// `value` scaled by a random factor in `[1 - spread, 1 + spread)`.
    pub fn jitter(&mut self, value: f32, spread: f32) -> f32 {
        value * self.range(1.0 - spread, 1.0 + spread)
    }

    /// An sRGB colour near `rgb`: each channel moved by up to `spread` (out of 255).
    pub fn tint(&mut self, rgb: [u8; 3], spread: f32) -> [u8; 3] {
        rgb.map(|c| (f32::from(c) + self.range(-spread, spread)).clamp(0.0, 255.0) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_same_sequence() {
        let (mut a, mut b) = (Rng::from_name("cat"), Rng::from_name("cat"));
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(Rng::from_name("cat").next_u64(), Rng::from_name("dog").next_u64());
    }

    #[test]
    fn unit_stays_in_range() {
        let mut r = Rng::from_name("range");
        assert!((0..10_000).map(|_| r.unit()).all(|x| (0.0..1.0).contains(&x)));
    }
}
