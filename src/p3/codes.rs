//! `wasi:http` 0.3.0 names the same error codes as 0.2: the client keeps
//! 0.2's inside (its errors and their rendering name them), the transport
//! turns the host's 0.3 codes into them, and the WASI 0.3 world hands 0.3's
//! out.

/// The same code in the other version's type (`$from` and `$to` are the
/// two `wasi:http/types` modules).
macro_rules! convert {
    ($code:expr, $from:path => $to:path) => {{
        use $from as F;
        use $to as T;
        match $code {
            F::ErrorCode::DnsTimeout => T::ErrorCode::DnsTimeout,
            F::ErrorCode::DestinationNotFound => T::ErrorCode::DestinationNotFound,
            F::ErrorCode::DestinationUnavailable => T::ErrorCode::DestinationUnavailable,
            F::ErrorCode::DestinationIpProhibited => T::ErrorCode::DestinationIpProhibited,
            F::ErrorCode::DestinationIpUnroutable => T::ErrorCode::DestinationIpUnroutable,
            F::ErrorCode::ConnectionRefused => T::ErrorCode::ConnectionRefused,
            F::ErrorCode::ConnectionTerminated => T::ErrorCode::ConnectionTerminated,
            F::ErrorCode::ConnectionTimeout => T::ErrorCode::ConnectionTimeout,
            F::ErrorCode::ConnectionReadTimeout => T::ErrorCode::ConnectionReadTimeout,
            F::ErrorCode::ConnectionWriteTimeout => T::ErrorCode::ConnectionWriteTimeout,
            F::ErrorCode::ConnectionLimitReached => T::ErrorCode::ConnectionLimitReached,
            F::ErrorCode::TlsProtocolError => T::ErrorCode::TlsProtocolError,
            F::ErrorCode::TlsCertificateError => T::ErrorCode::TlsCertificateError,
            F::ErrorCode::HttpRequestDenied => T::ErrorCode::HttpRequestDenied,
            F::ErrorCode::HttpRequestLengthRequired => T::ErrorCode::HttpRequestLengthRequired,
            F::ErrorCode::HttpRequestMethodInvalid => T::ErrorCode::HttpRequestMethodInvalid,
            F::ErrorCode::HttpRequestUriInvalid => T::ErrorCode::HttpRequestUriInvalid,
            F::ErrorCode::HttpRequestUriTooLong => T::ErrorCode::HttpRequestUriTooLong,
            F::ErrorCode::HttpResponseIncomplete => T::ErrorCode::HttpResponseIncomplete,
            F::ErrorCode::HttpResponseTimeout => T::ErrorCode::HttpResponseTimeout,
            F::ErrorCode::HttpUpgradeFailed => T::ErrorCode::HttpUpgradeFailed,
            F::ErrorCode::HttpProtocolError => T::ErrorCode::HttpProtocolError,
            F::ErrorCode::LoopDetected => T::ErrorCode::LoopDetected,
            F::ErrorCode::ConfigurationError => T::ErrorCode::ConfigurationError,
            F::ErrorCode::HttpRequestBodySize(v) => T::ErrorCode::HttpRequestBodySize(v),
            F::ErrorCode::HttpRequestHeaderSectionSize(v) => T::ErrorCode::HttpRequestHeaderSectionSize(v),
            F::ErrorCode::HttpRequestTrailerSectionSize(v) => T::ErrorCode::HttpRequestTrailerSectionSize(v),
            F::ErrorCode::HttpResponseHeaderSectionSize(v) => T::ErrorCode::HttpResponseHeaderSectionSize(v),
            F::ErrorCode::HttpResponseBodySize(v) => T::ErrorCode::HttpResponseBodySize(v),
            F::ErrorCode::HttpResponseTrailerSectionSize(v) => T::ErrorCode::HttpResponseTrailerSectionSize(v),
            F::ErrorCode::HttpResponseTransferCoding(v) => T::ErrorCode::HttpResponseTransferCoding(v),
            F::ErrorCode::HttpResponseContentCoding(v) => T::ErrorCode::HttpResponseContentCoding(v),
            F::ErrorCode::InternalError(v) => T::ErrorCode::InternalError(v),
            F::ErrorCode::DnsError(p) => {
                T::ErrorCode::DnsError(T::DnsErrorPayload { rcode: p.rcode, info_code: p.info_code })
            }
            F::ErrorCode::TlsAlertReceived(p) => T::ErrorCode::TlsAlertReceived(T::TlsAlertReceivedPayload {
                alert_id: p.alert_id,
                alert_message: p.alert_message,
            }),
            F::ErrorCode::HttpRequestHeaderSize(p) => T::ErrorCode::HttpRequestHeaderSize(
                p.map(|p| T::FieldSizePayload { field_name: p.field_name, field_size: p.field_size }),
            ),
            F::ErrorCode::HttpRequestTrailerSize(p) => T::ErrorCode::HttpRequestTrailerSize(T::FieldSizePayload {
                field_name: p.field_name,
                field_size: p.field_size,
            }),
            F::ErrorCode::HttpResponseHeaderSize(p) => T::ErrorCode::HttpResponseHeaderSize(T::FieldSizePayload {
                field_name: p.field_name,
                field_size: p.field_size,
            }),
            F::ErrorCode::HttpResponseTrailerSize(p) => T::ErrorCode::HttpResponseTrailerSize(T::FieldSizePayload {
                field_name: p.field_name,
                field_size: p.field_size,
            }),
        }
    }};
}

/// A host's 0.3 code as the client keeps it.
pub(crate) fn from_p3(code: wasip3::http::types::ErrorCode) -> wasi::http::types::ErrorCode {
    convert!(code, wasip3::http::types => wasi::http::types)
}

/// A code the client kept, as the WASI 0.3 world hands it out.
pub(crate) fn to_p3(code: wasi::http::types::ErrorCode) -> wasip3::http::types::ErrorCode {
    convert!(code, wasi::http::types => wasip3::http::types)
}
