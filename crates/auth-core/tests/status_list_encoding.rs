//! The Status List encoding against the test vectors of draft-ietf-oauth-status-list-20
//! (§4.1 and Appendix A), in both directions: the draft's `lst` decodes to the statuses it
//! lists, and those statuses, set on an empty list, give the same bytes before compression and
//! an `lst` that decodes back to them. Then malformed input and zip bombs.

use auth_core::status_list::{Bits, EncodedStatusList, StatusList, StatusListError};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use flate2::Compression;
use proptest::prelude::*;
use std::io::Write;

/// Every Appendix A example is initialised with 2^20 entries.
const SIZE: u64 = 1 << 20;
const MAX: usize = 16 << 20;

fn decode(bits: Bits, lst: &str) -> StatusList {
    StatusList::decode(bits, lst, MAX).expect("the draft's lst decodes")
}

/// Decodes the draft's `lst`, checks that exactly `statuses` are set, builds the same list
/// from the statuses and checks it matches before compression and after a round trip.
fn check_vector(bits: Bits, statuses: &[(u64, u8)], lst: &str) {
    let from_draft = decode(bits, lst);
    assert_eq!(from_draft.len(), SIZE, "{bits}-bit: size");
    for &(idx, value) in statuses {
        assert_eq!(
            from_draft.get(idx),
            Some(value),
            "{bits}-bit: status[{idx}]"
        );
    }
    let set = (0..SIZE)
        .filter(|&idx| from_draft.get(idx) != Some(StatusList::VALID))
        .count();
    let listed = statuses.iter().filter(|(_, v)| *v != 0).count();
    assert_eq!(
        set, listed,
        "{bits}-bit: entries other than the listed ones are VALID"
    );

    let mut ours = StatusList::new(bits, SIZE);
    for &(idx, value) in statuses {
        ours.set(idx, value).unwrap();
    }
    assert_eq!(ours.as_bytes(), from_draft.as_bytes(), "{bits}-bit: bytes");
    let again = decode(bits, &ours.encode());
    assert_eq!(again, ours, "{bits}-bit: round trip");
    assert_eq!(
        ours.to_encoded(),
        EncodedStatusList {
            bits: u64::from(bits.get()),
            lst: ours.encode(),
            aggregation_uri: None,
        }
    );
}

#[test]
fn the_section_4_1_one_bit_example_in_both_directions() {
    let draft = decode(Bits::One, "eNrbuRgAAhcBXQ");
    assert_eq!(draft.as_bytes(), [0xb9, 0xa3]);
    let expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    let mut ours = StatusList::new(Bits::One, 16);
    for (idx, value) in expected.into_iter().enumerate() {
        assert_eq!(draft.get(idx as u64), Some(value), "status[{idx}]");
        ours.set(idx as u64, value).unwrap();
    }
    assert_eq!(draft.get(16), None);
    assert_eq!(ours, draft);
    // zlib at the best level, as the draft recommends (header 78 da, as in the draft's
    // "78dadbb918000217015d"); the exact deflate bytes may differ between compressors.
    assert_eq!(hex(&ours.compress()[..2]), "78da");
    assert_eq!(decode(Bits::One, &ours.encode()), draft);
}

#[test]
fn the_section_4_1_two_bit_example_in_both_directions() {
    let draft = decode(Bits::Two, "eNo76fITAAPfAgc");
    assert_eq!(draft.as_bytes(), [0xc9, 0x44, 0xf9]);
    let expected = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    let mut ours = StatusList::new(Bits::Two, 12);
    for (idx, value) in expected.into_iter().enumerate() {
        assert_eq!(draft.get(idx as u64), Some(value), "status[{idx}]");
        ours.set(idx as u64, value).unwrap();
    }
    assert_eq!(ours, draft);
    assert_eq!(hex(&ours.compress()[..2]), "78da");
    assert_eq!(decode(Bits::Two, &ours.encode()), draft);
}

#[test]
fn the_appendix_a_one_bit_vector_in_both_directions() {
    check_vector(Bits::One, ONE_BIT_STATUSES, ONE_BIT_LST);
}

#[test]
fn the_appendix_a_two_bit_vector_in_both_directions() {
    check_vector(Bits::Two, TWO_BIT_STATUSES, TWO_BIT_LST);
}

#[test]
fn the_appendix_a_four_bit_vector_in_both_directions() {
    check_vector(Bits::Four, FOUR_BIT_STATUSES, FOUR_BIT_LST);
}

#[test]
fn the_appendix_a_eight_bit_vector_in_both_directions() {
    let statuses: Vec<(u64, u8)> = EIGHT_BIT_INDEXES
        .iter()
        .zip(0..=255u8)
        .map(|(&idx, value)| (idx, value))
        .collect();
    check_vector(Bits::Eight, &statuses, EIGHT_BIT_LST);
}

#[test]
fn set_refuses_values_too_wide_and_indexes_beyond_the_end() {
    let mut list = StatusList::new(Bits::One, 10);
    assert_eq!(list.len(), 16, "rounded up to whole bytes");
    assert_eq!(
        list.set(0, 2),
        Err(StatusListError::ValueTooLarge { value: 2, bits: 1 })
    );
    assert_eq!(
        list.set(16, 1),
        Err(StatusListError::OutOfRange { idx: 16, len: 16 })
    );
    assert_eq!(list.get(u64::MAX), None);
    let mut two = StatusList::new(Bits::Two, 4);
    two.set(3, StatusList::APPLICATION_SPECIFIC).unwrap();
    two.set(3, StatusList::SUSPENDED).unwrap();
    assert_eq!(
        two.get(3),
        Some(StatusList::SUSPENDED),
        "set replaces, not ors"
    );
    assert_eq!(two.as_bytes(), [0b1000_0000]);
}

#[test]
fn bits_other_than_1_2_4_8_are_refused() {
    for bits in [0, 3, 5, 16, 255] {
        let encoded = EncodedStatusList {
            bits,
            lst: "eNrbuRgAAhcBXQ".into(),
            aggregation_uri: None,
        };
        assert_eq!(encoded.decode(MAX), Err(StatusListError::Bits(bits)));
    }
}

#[test]
fn malformed_lst_is_refused_with_its_reason() {
    let valid = URL_SAFE_NO_PAD.decode("eNrbuRgAAhcBXQ").unwrap();
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let cases: Vec<(String, StatusListError)> = vec![
        ("eNrbuRgAAhcBXQ!".into(), StatusListError::Base64),
        ("eNrbuRgAAh+BXQ".into(), StatusListError::Base64), // standard, not url-safe, alphabet
        (b64(&valid[..valid.len() - 1]), StatusListError::Zlib), // checksum cut
        (b64(&valid[..4]), StatusListError::Zlib),          // stream cut
        (b64(&[&valid[..], b"x"].concat()), StatusListError::Zlib), // trailing byte
        (b64(&[0x78, 0xda, 0xff, 0xff]), StatusListError::Zlib),
        (b64(&raw_deflate(&[1, 2, 3])), StatusListError::Zlib), // DEFLATE without the zlib header
        (b64(&[]), StatusListError::Zlib),
    ];
    let mut corrupt = valid.clone();
    corrupt[valid.len() - 2] ^= 1; // adler-32 mismatch
    let mut all = cases;
    all.push((b64(&corrupt), StatusListError::Zlib));
    for (lst, error) in all {
        assert_eq!(
            StatusList::decode(Bits::One, &lst, MAX),
            Err(error.clone()),
            "{lst:?}"
        );
    }
    // Padding is tolerated (it carries no information).
    assert!(StatusList::decode(Bits::One, "eNrbuRgAAhcBXQ==", MAX).is_ok());
}

#[test]
fn a_zip_bomb_stops_at_the_limit() {
    // 64 MiB of zeros compress to about 64 kB: decoding stops after max_bytes + 1.
    let bomb = StatusList::new(Bits::One, 8 * (64 << 20)).encode();
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    assert_eq!(
        StatusList::decode(Bits::One, &bomb, 1 << 20),
        Err(StatusListError::TooLarge { max_bytes: 1 << 20 })
    );
    // Exactly at the limit is fine.
    let exact = StatusList::new(Bits::One, 8 * 4096).encode();
    assert_eq!(
        StatusList::decode(Bits::One, &exact, 4096).unwrap().len(),
        8 * 4096
    );
    assert_eq!(
        StatusList::decode(Bits::One, &exact, 4095),
        Err(StatusListError::TooLarge { max_bytes: 4095 })
    );
}

#[test]
fn an_empty_list_round_trips_and_holds_nothing() {
    let empty = StatusList::new(Bits::Two, 0);
    let decoded = decode(Bits::Two, &empty.encode());
    assert!(decoded.is_empty());
    assert_eq!(decoded.get(0), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn encode_then_decode_gives_back_every_status(
        bits in prop_oneof![Just(Bits::One), Just(Bits::Two), Just(Bits::Four), Just(Bits::Eight)],
        len in 0u64..5000,
        writes in proptest::collection::vec((any::<u64>(), any::<u8>()), 0..200),
    ) {
        let mut list = StatusList::new(bits, len);
        let mut expected = vec![0u8; list.len() as usize];
        let mask = ((1u16 << bits.get()) - 1) as u8;
        for (idx, value) in writes {
            if list.is_empty() { break; }
            let (idx, value) = (idx % list.len(), value & mask);
            list.set(idx, value).unwrap();
            expected[idx as usize] = value;
        }
        let decoded = StatusList::decode(bits, &list.encode(), MAX).unwrap();
        prop_assert_eq!(decoded.len(), list.len());
        for (idx, value) in expected.iter().enumerate() {
            prop_assert_eq!(decoded.get(idx as u64), Some(*value));
        }
        prop_assert_eq!(decoded.get(list.len()), None);
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(lst in any::<String>()) {
        let _ = StatusList::decode(Bits::One, &lst, 1 << 16);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = StatusList::decode(Bits::Two, &URL_SAFE_NO_PAD.encode(bytes), 1 << 16);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

// The test vectors of draft-ietf-oauth-status-list-20, Appendix A (the `lst` values joined
// from the draft's wrapped lines).

const ONE_BIT_STATUSES: &[(u64, u8)] = &[
    (0, 1),
    (1993, 1),
    (25460, 1),
    (159495, 1),
    (495669, 1),
    (554353, 1),
    (645645, 1),
    (723232, 1),
    (854545, 1),
    (934534, 1),
    (1000345, 1),
];

const ONE_BIT_LST: &str = concat!(
    "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAAA",
    "7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAAACAZC8L2AEb",
);

const TWO_BIT_STATUSES: &[(u64, u8)] = &[
    (0, 1),
    (1993, 2),
    (25460, 1),
    (159495, 3),
    (495669, 1),
    (554353, 1),
    (645645, 2),
    (723232, 1),
    (854545, 1),
    (934534, 2),
    (1000345, 3),
];

const TWO_BIT_LST: &str = concat!(
    "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGVIAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAEB5WwIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAA",
    "AAAAAAAAAAAAAAAAAMB9SwIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw",
);

const FOUR_BIT_STATUSES: &[(u64, u8)] = &[
    (0, 1),
    (1993, 2),
    (35460, 3),
    (459495, 4),
    (595669, 5),
    (754353, 6),
    (845645, 7),
    (923232, 8),
    (924445, 9),
    (934534, 10),
    (1004534, 11),
    (1000345, 12),
    (1030203, 13),
    (1030204, 14),
    (1030205, 15),
];

const FOUR_BIT_LST: &str = concat!(
    "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA",
    "DrsCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwK",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAAAjsA9xMBMA",
);

/// §A.4: entry i of this array holds the value i (0 to 255).
const EIGHT_BIT_INDEXES: [u64; 256] = [
    233478, 52451, 576778, 513575, 468106, 292632, 214947, 182323, 884834, 66653, 62489, 196493,
    458517, 487925, 55649, 416992, 879796, 462297, 942059, 583408, 13628, 334829, 886286, 713557,
    582738, 326064, 451545, 705889, 214350, 194502, 796765, 202828, 752834, 721327, 554740, 91122,
    963483, 261779, 793844, 165255, 614839, 758403, 403258, 145867, 96100, 477937, 606890, 167335,
    488197, 211815, 797182, 582952, 950870, 765108, 341110, 776325, 745056, 439368, 559893, 149741,
    358903, 513405, 342679, 969429, 795775, 566121, 460566, 680070, 117310, 480348, 67319, 661552,
    841303, 561493, 138807, 442463, 659927, 445910, 1046963, 829700, 962282, 299623, 555493,
    292826, 517215, 551009, 898490, 837603, 759161, 459948, 290102, 1034977, 190650, 98810, 229950,
    320531, 335506, 885333, 133227, 806915, 800313, 981571, 527253, 24077, 240232, 559572, 713399,
    233941, 615514, 911768, 331680, 951527, 6805, 552366, 374660, 223159, 625884, 417146, 320527,
    784154, 338792, 1199, 679804, 1024680, 40845, 234603, 761225, 644903, 502167, 121477, 505144,
    165165, 179628, 1019195, 145149, 263738, 269256, 996739, 346296, 555864, 887384, 444173,
    421844, 653716, 836747, 783119, 918762, 946835, 253764, 519895, 471224, 134272, 709016, 44112,
    482585, 461829, 15080, 148883, 123467, 480125, 141348, 65877, 692958, 148598, 499131, 584009,
    1017987, 449287, 277478, 991262, 509602, 991896, 853666, 399318, 197815, 203278, 903979,
    743015, 888308, 862143, 979421, 113605, 206397, 127113, 844358, 711569, 229153, 521470, 401793,
    398896, 940810, 293983, 884749, 384802, 584151, 970201, 523882, 158093, 929312, 205329, 106091,
    30949, 195586, 495723, 348779, 852312, 1018463, 1009481, 448260, 841042, 122967, 345269,
    794764, 4520, 818773, 556171, 954221, 598210, 887110, 1020623, 324632, 398244, 622241, 456551,
    122648, 127837, 657676, 119884, 105156, 999897, 330160, 119285, 168005, 389703, 143699, 142524,
    493258, 846778, 251420, 516351, 83344, 171931, 879178, 663475, 546865, 428362, 658891, 500560,
    557034, 830023, 274471, 629139, 958869, 663071, 152133, 19535,
];

const EIGHT_BIT_LST: &str = concat!(
    "eNrt0WOQM2kYhtGsbdu2bdu2bdu2bdu2bdu2jVnU1my-SWYm6U5enFPVf7ue97orFYAo7CQBAACQuuckAABStqUE",
    "AAAAAAAAtN6wEgAE71QJAAAAAIrwhwQAAAAAAdtAAgAAAAAAACLwkAQAAAAAAAAAAACUaFcJAACAeJwkAQAAAAAA",
    "AABQvL4kAAAAWmJwCQAAAAAAAAjAwBIAAAB06ywJoDKQBARpfgkAAAAAAAAAAAAAAAAAAACo50sJAAAAAAAAAOiR",
    "cSQAAAAAgAJNKgEAAG23mgQAAAAAAECw3pUAQvegBAAAAAAAAADduE4CAAAAyjSvBAAQiw8koHjvSABAb-wlARCO",
    "NyVoxtMSZOd0CQAAAOjWDRKQmLckAAAAAACysLYEQGcnSAAAAAAQooUlAABI15kSAIH5RAIgLB9LABC4_SUgGZNI",
    "AABAmM6RoLbTJIASzCIBAEAhfpcAAAAAAABquk8CAAAAAAAAaJl9SvvzBOICAFWmkIBgfSgBAAAANOgrCQAAAAAA",
    "AADStK8EAAC03gASAAAAAAAAAADFWFUCAAAAMjOaBEADHpYAQjCIBADduFwCAAAAAGitMSSI3BUSAECOHpAA6IHr",
    "JQAAAAAAsjeVBAAAKRpVAorWvwQAAAAAAAAAkKRtJAAAAAAAgCbcLAF0bXUJAAAAoF02kYDg7CYBAAAAAEB6NpQA",
    "AAAAAAAAAAAAAEr1uQQAAF06VgIAAAAAAAAAqDaeBAAQqgMkAAAAAABogQMlAAAAAAAa87MEAAAQiwslAAAAAAAA",
    "AAAAAAAAMrOyBAAAiekv-hcsY0Sgne6QAAAAAAAgaUtJAAAAAAAAAAAAAAAAAAAAAAAAAADwt-07vjVkAAAAgDy8",
    "KgFAUEaSAAAAAJL3vgQAWdhcAgAAoBHDSUDo1pQAAACI2o4SAABZm14CALoyuwQAAPznGQkgZwdLAAAQukclAAAA",
    "AAAAAAAAgKbMKgEAAAAAAAAAAAAAAAAAAECftpYAAAAAAAAAAAAACnaXBAAAAADk7iMJAAAAAAAAAABqe00CAnGb",
    "BBG4TAIAgFDdKgFAXCaWAAAAAAAAAAAAAAAAAKAJQwR72XbGAQAAAKAhh0sAAAAAAABQgO8kAAAAAAAAAAAAACAa",
    "M0kAAAC5W0QCAIJ3mAQAxGwxCQAA6nhSAsjZBRIAANEbWQIAAAAAaJE3JACAwA0qAUBIVpKAlphbAiAPp0iQnKEk",
    "AAAAAAAgBP1KAAAAdOl4CQAAAAAAAPjLZBIAAG10RtrPm8_CAEBMTpYAAAAAAIjQYBL8z5QSAAAAAEDYPpUAACAs",
    "j0gAAADQkHMlAAjHDxIA0Lg9JQAAgHDsLQEAAABAQS6WAAAAgLjNFs2l_RgLAIAEfCEBlGZZCQAAaIHjJACgtlsk",
    "AAAozb0SAAAAVFtfAgAAAAAAAAAAAAAAAAAAAAAAAKDDtxIAAAAAVZaTAKB5W0kAANCAsSUgJ0tL0GqHSNBbL0gA",
    "ZflRAgCARG0kQXNmlgCABiwkAQAAAEB25pIAAAAAAAAAAAAAoFh9SwAAAAAAADWNmOSrpjFsEoaRgDKcF9Q1dxsE",
    "AAAAAAAAAAAAAAAAgPZ6SQIAAAAAAAAAgChMLgEAAAAAAAAAqZlQAsK2qQQAAAAAAAD06XUJAAAAqG9bCQAAgLD9",
    "IgEAAAAAAAAAAAAAAAAAAEBNe0gAAAAAAAAAAEBPHSEBAAAAlOZtCYA4fS8B0GFRCQAo0gISAOTgNwmC840EAAAA",
    "AAAAAAAAAAAAAAAAUJydJfjXPBIAAAAAAAAAAAAAAABk6WwJAAAAAAAAAAAAAAAAqG8UCQAAgPpOlAAAIA83SQAA",
    "NWwc9HUjGAgAAAAAAACAusaSAAAAAAAAAAAAAAAAAAAAAAAAAAAAqHKVBACQjxklAAAAAAAAAKBHxpQAAAAAACBM",
    "E0lAdlaUAACyt7sEAAAA0Nl0EgAAAAAAAAAAAABA-8wgAQAAAAAAAKU4SgKgUtlBAgAAAAAAAAAAgMCMLwEE51kJ",
    "ICdzSgCJGl2CsE0tAQAA0L11JQAAAAAAAAjUOhIAAAAAAAAAAAAAAGTqeQkAAAAAAAAAAAAAKM8SEjTrJwkAAAAA",
    "AACocqQEULgVJAAAACjDUxJUKgtKAAAAqbpRAgCA0n0mAQAAAABAGzwmAUCTLpUAAAAAAAAAAEjZNRIAAAAAAAAA",
    "AAAAAAAAAAAA8I-vJaAlhpQAAAAAAHrvzjJ-OqCuuVlLAojP8BJAr70sQZVDJYAgXS0BAAAAAAAAAAAAtMnyEgAA",
    "AAAAFONKCQAAAAAAAADorc0kAAAAAAAAgDqOlgAAAAAAAAAAAADIwv0SAAAAAAAAAAAAAADBuV0CIFVDSwAAAABA",
    "AI6RAAAAAGIwrQSEZAsJAABouRclAAAAAKDDrxIAAAA0bkkJgFiMKwEAAAAAAHQyhwRk7h4JAAAAAAAAAAAgatdK",
    "AACUYj0JAAAAAAAAAAAAQnORBLTFJRIAAAAAkIaDJAAAAJryngQAAAAAAAAAAAA98oQEAAAAAAAAAEC2zpcgWY9L",
    "QKL2kwAgGK9IAAAAAPHaRQIAAAAAAAAAAADIxyoSAAAAAAAAAAAAAADQFotLAECz_gQ1PX-B",
);
