//! stub
use super::ReportError;
use super::params::Parameters;
use super::queries::Tables;

pub fn page(tables: &mut Tables, params: &Parameters) -> Result<String, ReportError> {
    let _ = (tables, params);
    Ok(String::new())
}
