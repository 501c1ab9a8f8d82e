//! The Status List byte array and its `lst` encoding (draft-ietf-oauth-status-list-20 §4.1).

use std::fmt;

use base64::{
    Engine,
    engine::{GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD},
};
use flate2::{Compression, Decompress, FlushDecompress, Status, write::ZlibEncoder};

/// Why a Status List could not be read or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// `bits` is not 1, 2, 4 or 8.
    #[error("bits must be 1, 2, 4 or 8, not {0}")]
    Bits(u64),
    /// `lst` is not base64url.
    #[error("lst is not base64url")]
    Base64,
    /// `lst` is not a complete zlib (RFC 1950) stream, or has bytes after it.
    #[error("lst is not a valid zlib stream")]
    Zlib,
    /// The decompressed list is longer than the limit given to [`StatusList::decode`].
    #[error("the decompressed list exceeds {max_bytes} bytes")]
    TooLarge {
        /// The limit, in bytes.
        max_bytes: usize,
    },
    /// The index is beyond the end of the list.
    #[error("index {idx} is out of the list's {len} entries")]
    OutOfRange {
        /// The index asked for.
        idx: u64,
        /// How many entries the list has.
        len: u64,
    },
    /// The value does not fit in the list's `bits`.
    #[error("status {value} does not fit in {bits} bits")]
    ValueTooLarge {
        /// The value.
        value: u8,
        /// The list's bits per entry.
        bits: u8,
    },
}

/// How many bits each entry of a list takes: 1 (VALID, INVALID), 2 (also SUSPENDED and one
/// application-specific value), 4 or 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bits {
    /// 1 bit per entry, 8 entries per byte.
    One,
    /// 2 bits per entry, 4 entries per byte.
    Two,
    /// 4 bits per entry, 2 entries per byte.
    Four,
    /// 8 bits per entry, one entry per byte.
    Eight,
}

impl Bits {
    /// The number of bits, as carried in the list's `bits` member.
    pub fn get(self) -> u8 {
        match self {
            Bits::One => 1,
            Bits::Two => 2,
            Bits::Four => 4,
            Bits::Eight => 8,
        }
    }

    /// Reads a `bits` member: 1, 2, 4 or 8.
    pub fn from_count(bits: u64) -> Result<Self, StatusListError> {
        match bits {
            1 => Ok(Bits::One),
            2 => Ok(Bits::Two),
            4 => Ok(Bits::Four),
            8 => Ok(Bits::Eight),
            other => Err(StatusListError::Bits(other)),
        }
    }

    fn per_byte(self) -> u64 {
        8 / u64::from(self.get())
    }

    fn mask(self) -> u8 {
        // 1 → 0b1, 2 → 0b11, 4 → 0b1111, 8 → 0b1111_1111.
        (((1u16) << self.get()) - 1) as u8
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// The statuses of a list's tokens, `bits` each, packed from the least significant bit of
/// byte 0: entry `i` is at byte `i / (8 / bits)`, shifted left by `(i % (8 / bits)) * bits`.
/// Every entry starts VALID (0).
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    bytes: Vec<u8>,
}

impl fmt::Debug for StatusList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

// An engine that accepts base64url with or without padding (RFC 7515 omits it; some
// encoders add it). It never emits any: encoding uses URL_SAFE_NO_PAD.
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl StatusList {
    /// The status of a token that is valid.
    pub const VALID: u8 = 0;
    /// The status of a token that is revoked: irreversible.
    pub const INVALID: u8 = 1;
    /// The status of a token that is temporarily invalid.
    pub const SUSPENDED: u8 = 2;
    /// The status that the draft leaves to the application (as it does 0x0C to 0x0F).
    pub const APPLICATION_SPECIFIC: u8 = 3;

    /// A list of at least `len` entries (rounded up to whole bytes), all VALID.
    pub fn new(bits: Bits, len: u64) -> Self {
        let bytes = len.div_ceil(bits.per_byte());
        Self {
            bits,
            bytes: vec![0; usize::try_from(bytes).expect("a list that fits in memory")],
        }
    }

    /// A list over the uncompressed byte array `bytes`.
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> Self {
        Self { bits, bytes }
    }

    /// The bits per entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// How many entries the list holds (whole bytes' worth).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * self.bits.per_byte()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The uncompressed byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The status of entry `idx`, or `None` beyond the end of the list.
    #[inline]
    pub fn get(&self, idx: u64) -> Option<u8> {
        let per_byte = self.bits.per_byte();
        let byte = *self.bytes.get(usize::try_from(idx / per_byte).ok()?)?;
        let shift = (idx % per_byte) as u8 * self.bits.get();
        Some((byte >> shift) & self.bits.mask())
    }

    /// Sets the status of entry `idx`.
    pub fn set(&mut self, idx: u64, value: u8) -> Result<(), StatusListError> {
        if value > self.bits.mask() {
            return Err(StatusListError::ValueTooLarge {
                value,
                bits: self.bits.get(),
            });
        }
        let len = self.len();
        let per_byte = self.bits.per_byte();
        let byte = usize::try_from(idx / per_byte)
            .ok()
            .and_then(|at| self.bytes.get_mut(at))
            .ok_or(StatusListError::OutOfRange { idx, len })?;
        let shift = (idx % per_byte) as u8 * self.bits.get();
        *byte = (*byte & !(self.bits.mask() << shift)) | (value << shift);
        Ok(())
    }

    /// The `lst` member: the byte array compressed with DEFLATE in the ZLIB format at the
    /// highest level (as the draft recommends), then base64url without padding.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.compress())
    }

    /// The byte array compressed (zlib, best compression), before base64url.
    pub fn compress(&self) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = ZlibEncoder::new(
            Vec::with_capacity(self.bytes.len() / 8 + 64),
            Compression::best(),
        );
        encoder
            .write_all(&self.bytes)
            .and_then(|()| encoder.finish())
            .expect("compressing into memory cannot fail")
    }

    /// Reads an `lst` member of a list with `bits` per entry. Refuses input that is not
    /// base64url, not one complete zlib stream (a bad checksum, a truncated stream, trailing
    /// bytes), or that decompresses to more than `max_bytes` (a zip bomb stops there: at most
    /// `max_bytes + 1` bytes are ever produced).
    pub fn decode(bits: Bits, lst: &str, max_bytes: usize) -> Result<Self, StatusListError> {
        let compressed = URL_SAFE_ANY_PAD
            .decode(lst)
            .map_err(|_| StatusListError::Base64)?;
        let bytes = inflate(&compressed, max_bytes)?;
        Ok(Self { bits, bytes })
    }
}

/// Inflates one whole zlib stream that must end exactly at the end of `input`, producing at
/// most `max_bytes` (the output buffer never grows beyond `max_bytes + 1`).
fn inflate(input: &[u8], max_bytes: usize) -> Result<Vec<u8>, StatusListError> {
    let limit = max_bytes.saturating_add(1);
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(limit.min(input.len().saturating_mul(4).max(1024)));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(StatusListError::TooLarge { max_bytes });
            }
            let grow = out.len().max(1024).min(limit - out.len());
            out.reserve_exact(grow);
        }
        let (read, written) = (inflater.total_in(), inflater.total_out());
        let rest = &input[usize::try_from(read).map_err(|_| StatusListError::Zlib)?..];
        let status = inflater
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|_| StatusListError::Zlib)?;
        match status {
            Status::StreamEnd => break,
            // No progress with room left to write: the input ended before the stream did.
            Status::Ok | Status::BufError
                if inflater.total_in() == read
                    && inflater.total_out() == written
                    && out.len() < out.capacity() =>
            {
                return Err(StatusListError::Zlib);
            }
            Status::Ok | Status::BufError => {}
        }
    }
    if out.len() > max_bytes {
        return Err(StatusListError::TooLarge { max_bytes });
    }
    if inflater.total_in() != input.len() as u64 {
        return Err(StatusListError::Zlib);
    }
    Ok(out)
}
