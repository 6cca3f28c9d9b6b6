//! ISO 3166-1 alpha-2 country codes (officially assigned), for `destination`
//! and licence `destinations`.

pub const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an assigned alpha-2 code (upper case): a binary
/// search over the sorted list, whose codes sit 3 bytes apart.
pub fn is_country(code: &str) -> bool {
    let code = code.as_bytes();
    if code.len() != 2 {
        return false;
    }
    let list = ISO_3166_ALPHA2.as_bytes();
    let (mut lo, mut hi) = (0, list.len().div_ceil(3));
    while lo < hi {
        let mid = (lo + hi) / 2;
        match list[mid * 3..mid * 3 + 2].cmp(code) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

pub fn all() -> impl Iterator<Item = &'static str> {
    ISO_3166_ALPHA2.split(' ')
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_has_249_codes() {
        assert_eq!(super::all().count(), 249);
        assert!(super::is_country("DE") && !super::is_country("de") && !super::is_country("XX"));
    }

    #[test]
    fn the_list_is_sorted_and_every_code_is_found() {
        let all: Vec<&str> = super::all().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(all.iter().all(|c| c.len() == 2 && super::is_country(c)));
        for miss in ["AA", "ZZ", "A", "ADX", "", "Ad", "DE "] {
            assert!(!super::is_country(miss), "{miss:?}");
        }
    }
}
