//! JSON values of configs, with `f32` fields written as people write them.
//!
//! `serde_json::to_value` widens an `f32` to `f64` (`0.1f32` → `0.10000000149011612`). Writing
//! the value as text first uses the `f32`'s shortest round-trip form (`0.1`), which parses back
//! to the `f64` nearest that decimal and so prints the same. Reading is unchanged: any JSON number,
//! noisy or not, deserializes to the same `f32`.

use serde::Serialize;
use serde_json::Value;

/// Like `serde_json::to_value`, without `f32` → `f64` noise.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Value> {
    serde_json::from_str(&serde_json::to_string(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Config {
        a: f32,
        b: f32,
        c: Option<f32>,
        d: Vec<f32>,
        e: f64,
        n: u64,
        s: String,
    }

    fn sample() -> Config {
        Config {
            a: 0.1,
            b: 0.99,
            c: Some(0.00025),
            d: vec![0.01, 1e-8, 3.0e38, f32::MIN_POSITIVE, -2.5],
            e: 0.1,
            n: u64::MAX,
            s: "0.1".into(),
        }
    }

    #[test]
    fn f32_fields_print_in_their_shortest_form_and_read_back_exactly() {
        let widened = serde_json::to_value(sample()).unwrap().to_string();
        assert!(widened.contains("0.10000000149011612"), "{widened}");
        let v = to_value(&sample()).unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"a":0.1,"b":0.99,"c":0.00025,"d":[0.01,1e-8,3e+38,1.1754944e-38,-2.5],"e":0.1,"n":18446744073709551615,"s":"0.1"}"#
        );
        assert_eq!(serde_json::from_value::<Config>(v).unwrap(), sample());
        // Files written before (widened f32s) still read as the same values.
        assert_eq!(serde_json::from_str::<Config>(&widened).unwrap(), sample());
    }

    #[test]
    fn non_finite_f32_becomes_null_as_before() {
        assert_eq!(to_value(&f32::NAN).unwrap(), Value::Null);
        assert_eq!(serde_json::to_value(f32::NAN).unwrap(), Value::Null);
    }
}
