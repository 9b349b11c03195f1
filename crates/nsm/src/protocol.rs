//! The pure half of the hardware provider: building NSM `Request` values and
//! mapping `Response` values to results. No device is involved, so this is
//! unit-tested in every build (the `api` module of
//! `aws-nitro-enclaves-nsm-api` is a dev-dependency).
use aws_nitro_enclaves_nsm_api::api::{ErrorCode, Request, Response};
use serde_bytes::ByteBuf;

use crate::{AttestationRequest, Error, NsmErrorCode, Pcr};

/// The `Request::Attestation` for `request`, after AWS's size checks.
pub(crate) fn attestation_request(request: &AttestationRequest) -> Result<Request, Error> {
    request.validate()?;
    Ok(Request::Attestation {
        user_data: request.user_data.clone().map(ByteBuf::from),
        nonce: request.nonce.clone().map(ByteBuf::from),
        public_key: request.public_key.clone().map(ByteBuf::from),
    })
}

/// The document carried by a `Response::Attestation`.
pub(crate) fn attestation_response(response: Response) -> Result<Vec<u8>, Error> {
    match response {
        Response::Attestation { document } if document.is_empty() => {
            Err(Error::NsmUnexpectedResponse { detail: "empty attestation document" })
        }
        Response::Attestation { document } => Ok(document),
        Response::Error(code) => Err(error_from_code(code)),
        _ => Err(Error::NsmUnexpectedResponse { detail: "not an Attestation response" }),
    }
}

/// The `Request::DescribePCR` for PCR `index`.
pub(crate) fn describe_pcr_request(index: u16) -> Request {
    Request::DescribePCR { index }
}

/// The PCR value carried by a `Response::DescribePCR`.
pub(crate) fn describe_pcr_response(response: Response) -> Result<Pcr, Error> {
    match response {
        Response::DescribePCR { data, .. } => <Pcr>::try_from(data.as_slice())
            .map_err(|_| Error::NsmUnexpectedResponse { detail: "PCR value is not 48 bytes" }),
        Response::Error(code) => Err(error_from_code(code)),
        _ => Err(Error::NsmUnexpectedResponse { detail: "not a DescribePCR response" }),
    }
}

fn error_from_code(code: ErrorCode) -> Error {
    let code = match code {
        ErrorCode::Success => return Error::NsmUnexpectedResponse { detail: "error response with code Success" },
        ErrorCode::InvalidArgument => NsmErrorCode::InvalidArgument,
        ErrorCode::InvalidIndex => NsmErrorCode::InvalidIndex,
        ErrorCode::InvalidResponse => NsmErrorCode::InvalidResponse,
        ErrorCode::ReadOnlyIndex => NsmErrorCode::ReadOnlyIndex,
        ErrorCode::InvalidOperation => NsmErrorCode::InvalidOperation,
        ErrorCode::BufferTooSmall => NsmErrorCode::BufferTooSmall,
        ErrorCode::InputTooLarge => NsmErrorCode::InputTooLarge,
        ErrorCode::InternalError => NsmErrorCode::InternalError,
    };
    Error::Nsm(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attestation_request_carries_every_field() {
        let req = AttestationRequest {
            user_data: Some(b"state".to_vec()),
            nonce: Some(b"challenge".to_vec()),
            public_key: Some(b"der".to_vec()),
        };
        match attestation_request(&req).unwrap() {
            Request::Attestation { user_data, nonce, public_key } => {
                assert_eq!(user_data.unwrap().into_vec(), b"state");
                assert_eq!(nonce.unwrap().into_vec(), b"challenge");
                assert_eq!(public_key.unwrap().into_vec(), b"der");
            }
            other => panic!("wrong request {other:?}"),
        }
    }

    #[test]
    fn absent_fields_stay_absent() {
        match attestation_request(&AttestationRequest::default()).unwrap() {
            Request::Attestation { user_data, nonce, public_key } => {
                assert!(user_data.is_none() && nonce.is_none() && public_key.is_none());
            }
            other => panic!("wrong request {other:?}"),
        }
    }

    #[test]
    fn attestation_request_encodes_as_the_nsm_expects() {
        // The driver CBOR-encodes the Request with serde_cbor; byte strings must be
        // CBOR bstr (major type 2), not arrays of integers.
        let req = AttestationRequest { nonce: Some(vec![0xaa, 0xbb]), ..Default::default() };
        let mut bytes = Vec::new();
        ciborium::into_writer(&attestation_request(&req).unwrap(), &mut bytes).unwrap();
        let value: ciborium::Value = ciborium::from_reader(bytes.as_slice()).unwrap();
        let outer = value.as_map().unwrap();
        assert_eq!(outer[0].0.as_text(), Some("Attestation"));
        let fields = outer[0].1.as_map().unwrap();
        let nonce = fields.iter().find(|(k, _)| k.as_text() == Some("nonce")).unwrap();
        assert_eq!(nonce.1.as_bytes().unwrap(), &vec![0xaa, 0xbb]);
        let user_data = fields.iter().find(|(k, _)| k.as_text() == Some("user_data")).unwrap();
        assert!(user_data.1.is_null());
    }

    #[test]
    fn oversized_requests_never_reach_the_device() {
        let req = AttestationRequest { user_data: Some(vec![0; 513]), ..Default::default() };
        assert_eq!(attestation_request(&req).unwrap_err().code(), "USER_DATA_TOO_LARGE");
        let req = AttestationRequest { public_key: Some(vec![]), ..Default::default() };
        assert_eq!(attestation_request(&req).unwrap_err().code(), "PUBLIC_KEY_EMPTY");
    }

    #[test]
    fn attestation_response_mapping() {
        assert_eq!(attestation_response(Response::Attestation { document: vec![0x84, 1] }).unwrap(), vec![0x84, 1]);
        assert_eq!(
            attestation_response(Response::Attestation { document: vec![] }).unwrap_err().code(),
            "NSM_UNEXPECTED_RESPONSE"
        );
        assert_eq!(attestation_response(Response::LockPCRs).unwrap_err().code(), "NSM_UNEXPECTED_RESPONSE");
        assert_eq!(
            attestation_response(Response::GetRandom { random: vec![1] }).unwrap_err().code(),
            "NSM_UNEXPECTED_RESPONSE"
        );
        let codes = [
            (ErrorCode::Success, "NSM_UNEXPECTED_RESPONSE"),
            (ErrorCode::InvalidArgument, "NSM_INVALID_ARGUMENT"),
            (ErrorCode::InvalidIndex, "NSM_INVALID_INDEX"),
            (ErrorCode::InvalidResponse, "NSM_INVALID_RESPONSE"),
            (ErrorCode::ReadOnlyIndex, "NSM_READ_ONLY_INDEX"),
            (ErrorCode::InvalidOperation, "NSM_INVALID_OPERATION"),
            (ErrorCode::BufferTooSmall, "NSM_BUFFER_TOO_SMALL"),
            (ErrorCode::InputTooLarge, "NSM_INPUT_TOO_LARGE"),
            (ErrorCode::InternalError, "NSM_INTERNAL_ERROR"),
        ];
        for (code, expected) in codes {
            assert_eq!(attestation_response(Response::Error(code)).unwrap_err().code(), expected);
        }
    }

    #[test]
    fn describe_pcr_mapping() {
        match describe_pcr_request(7) {
            Request::DescribePCR { index } => assert_eq!(index, 7),
            other => panic!("wrong request {other:?}"),
        }
        let pcr = describe_pcr_response(Response::DescribePCR { lock: true, data: vec![9; 48] }).unwrap();
        assert_eq!(pcr, [9; 48]);
        assert_eq!(
            describe_pcr_response(Response::DescribePCR { lock: true, data: vec![9; 32] }).unwrap_err().code(),
            "NSM_UNEXPECTED_RESPONSE"
        );
        assert_eq!(
            describe_pcr_response(Response::Error(ErrorCode::InvalidIndex)).unwrap_err().code(),
            "NSM_INVALID_INDEX"
        );
        assert_eq!(
            describe_pcr_response(Response::Attestation { document: vec![1] }).unwrap_err().code(),
            "NSM_UNEXPECTED_RESPONSE"
        );
    }
}
