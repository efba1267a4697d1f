//! The DSP's classes of sensitive personal data: a mark on taxonomy keys and a dimension of the
//! transfer volumes, so it lives below both.

use super::text_enum;

text_enum! {
    /// A class of sensitive personal data of the DSP (28 CFR 202.249, 202.212).
    #[derive(PartialOrd, Ord)]
    pub enum DspClass {
        Genomic = "genomic",
        Biometric = "biometric",
        PreciseGeolocation = "precise_geolocation",
        Health = "health",
        Financial = "financial",
        /// A listed identifier (202.234): a covered personal identifier only in combination.
        ListedIdentifier = "listed_identifier",
        /// Listed identifiers in combination (202.212): counted, never marked on a category.
        CoveredIdentifier = "covered_identifier",
    }
}

impl DspClass {
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The classes in a bit set.
    pub fn of_bits(bits: u8) -> impl Iterator<Item = DspClass> {
        DspClass::ALL
            .iter()
            .copied()
            .filter(move |c| bits & c.bit() != 0)
    }
}
