//! Reading a descriptor file: bounded, regular files only, UTF-8.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::SpecError;

/// The largest descriptor file read, in bytes (64 KiB). A descriptor holds one
/// address and at most three file paths; anything bigger is not a descriptor.
pub const MAX_DESCRIPTOR_LEN: u64 = 64 * 1024;

/// Reads the descriptor at `path` as UTF-8 text.
///
/// Opened non-blocking, so a FIFO is reported, never waited on; the type is
/// checked on the open file, so nothing can swap it in between.
pub(crate) fn read_descriptor(path: &Path) -> Result<String, SpecError> {
    let read_error = |source| SpecError::Read {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| match not_a_file(path) {
            Some(kind) => SpecError::NotAFile {
                path: path.to_owned(),
                kind,
            },
            None => read_error(source),
        })?;
    let meta = file.metadata().map_err(read_error)?;
    if let Some(kind) = file_kind(&meta.file_type()) {
        return Err(SpecError::NotAFile {
            path: path.to_owned(),
            kind,
        });
    }
    let too_large = |size| SpecError::TooLarge {
        path: path.to_owned(),
        size,
        limit: MAX_DESCRIPTOR_LEN,
    };
    if meta.len() > MAX_DESCRIPTOR_LEN {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    read_bounded(file, &mut bytes).map_err(read_error)?;
    // The file may have grown since it was measured.
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_DESCRIPTOR_LEN {
        return Err(too_large(len));
    }
    String::from_utf8(bytes).map_err(|e| SpecError::NotUtf8 {
        path: path.to_owned(),
        source: e.utf8_error(),
    })
}

fn read_bounded(file: File, into: &mut Vec<u8>) -> std::io::Result<usize> {
    file.take(MAX_DESCRIPTOR_LEN + 1).read_to_end(into)
}

/// What a path is when it cannot be opened as a file: a socket refuses `open`.
fn not_a_file(path: &Path) -> Option<&'static str> {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| file_kind(&m.file_type()))
}

/// `None` for a regular file, else what it is instead.
fn file_kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("directory")
    } else if file_type.is_fifo() {
        Some("fifo")
    } else if file_type.is_socket() {
        Some("socket")
    } else if file_type.is_block_device() || file_type.is_char_device() {
        Some("device")
    } else {
        Some("special file")
    }
}
