//! LogDriver frames: a 4-byte big-endian length, then a protobuf `LogEntry`.
//! Round trips through any chunking, and clear errors on truncated and
//! oversized frames.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use plugin_subsystems::logdriver::{
    FrameDecoder, FrameError, LogEntry, MAX_FRAME_LEN, PartialLogEntryMetadata, decode_stream,
    encode_frame, frame,
};
use proptest::prelude::*;

fn entry(line: &str) -> LogEntry {
    LogEntry {
        source: "stdout".into(),
        time_nano: 1_764_057_600_000_000_001,
        line: line.as_bytes().to_vec(),
        partial: false,
        partial_log_metadata: None,
    }
}

#[test]
fn a_frame_is_a_big_endian_length_and_the_protobuf() {
    let bytes = frame(&entry("hi"));
    // source=1 "stdout", time_nano=2 as a varint (computed independently: 7-bit
    // groups, low first), line=3 "hi".
    let body: &[u8] = &[
        0x0a, 6, b's', b't', b'd', b'o', b'u', b't', 0x10, 0x81, 0x80, 0xd0, 0x9a, 0xa7, 0xa1,
        0xcc, 0xbd, 0x18, 0x1a, 2, b'h', b'i',
    ];
    assert_eq!(
        &bytes[..4],
        &u32::try_from(body.len()).unwrap().to_be_bytes()
    );
    assert_eq!(&bytes[4..], body);
}

#[test]
fn partial_entries_keep_their_metadata() {
    let partial = LogEntry {
        partial: true,
        partial_log_metadata: Some(PartialLogEntryMetadata {
            last: true,
            id: "abc".into(),
            ordinal: 3,
        }),
        ..entry("part")
    };
    let mut decoder = FrameDecoder::default();
    decoder.extend(&frame(&partial));
    assert_eq!(decoder.next_entry().unwrap(), Some(partial));
    assert_eq!(decoder.next_entry().unwrap(), None);
    decoder.finish().unwrap();
}

#[test]
fn a_truncated_frame_is_reported_at_the_end() {
    let bytes = frame(&entry("truncated line"));
    let mut decoder = FrameDecoder::default();
    decoder.extend(&bytes[..bytes.len() - 3]);
    assert_eq!(decoder.next_entry().unwrap(), None, "more bytes may come");
    match decoder.finish() {
        Err(FrameError::Truncated { have, need }) => {
            assert_eq!((have, need), (bytes.len() - 3, bytes.len()))
        }
        other => panic!("{other:?}"),
    }
    // Even a partial length prefix.
    let mut decoder = FrameDecoder::default();
    decoder.extend(&[0, 0]);
    assert!(matches!(
        decoder.finish(),
        Err(FrameError::Truncated { have: 2, need: 4 })
    ));
}

#[test]
fn an_oversized_frame_is_refused_before_it_is_buffered() {
    let mut decoder = FrameDecoder::new(1024);
    decoder.extend(&(2_000_000u32).to_be_bytes());
    let err = decoder.next_entry().unwrap_err();
    assert!(matches!(
        err,
        FrameError::TooLarge {
            len: 2_000_000,
            max: 1024
        }
    ));
    assert_eq!(
        err.to_string(),
        "a log frame announces 2000000 bytes, over the 1024-byte limit; the stream is corrupt or not a log stream"
    );
    assert_eq!(MAX_FRAME_LEN, 1_048_576);
}

#[test]
fn garbage_is_a_decode_error() {
    let mut decoder = FrameDecoder::default();
    decoder.extend(&[0, 0, 0, 2, 0xff, 0xff]);
    assert!(matches!(decoder.next_entry(), Err(FrameError::Decode(_))));
}

#[tokio::test]
async fn a_stream_of_chunks_decodes_and_a_truncated_one_ends_with_the_error() {
    let mut all = BytesMut::new();
    for i in 0..3 {
        encode_frame(&entry(&format!("line {i}")), &mut all);
    }
    let all = all.freeze();
    let chunks: Vec<Result<Bytes, std::io::Error>> = all
        .chunks(5)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let entries: Vec<_> = decode_stream(futures_util::stream::iter(chunks))
        .collect()
        .await;
    assert_eq!(
        entries.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        (0..3)
            .map(|i| entry(&format!("line {i}")))
            .collect::<Vec<_>>()
    );

    let cut = all.slice(..all.len() - 1);
    let results: Vec<_> = decode_stream(futures_util::stream::iter([Ok::<_, std::io::Error>(cut)]))
        .collect()
        .await;
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    assert!(matches!(results[2], Err(FrameError::Truncated { .. })));
}

proptest! {
    #[test]
    fn any_entries_in_any_chunks_round_trip(
        lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20),
        cuts in proptest::collection::vec(1usize..64, 1..50),
    ) {
        let entries: Vec<LogEntry> = lines.into_iter().enumerate().map(|(i, line)| LogEntry {
            source: "stderr".into(),
            time_nano: i64::try_from(i).unwrap(),
            line,
            partial: i % 3 == 0,
            partial_log_metadata: None,
        }).collect();
        let mut bytes = BytesMut::new();
        for e in &entries {
            encode_frame(e, &mut bytes);
        }
        let mut decoder = FrameDecoder::default();
        let mut decoded = Vec::new();
        let mut rest = &bytes[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            decoder.extend(&rest[..n]);
            rest = &rest[n..];
            while let Some(e) = decoder.next_entry().unwrap() {
                decoded.push(e);
            }
        }
        decoder.finish().unwrap();
        prop_assert_eq!(decoded, entries);
    }
}
