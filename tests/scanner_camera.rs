//! The real camera path through nokhwa. On a machine without a camera (CI) the worker must
//! report "no camera" clearly instead of failing or hanging; with a camera it must deliver
//! 1280×720-ish frames (or say the camera is busy).
#![cfg(feature = "camera")]

use std::time::{Duration, Instant};

use quickcard_kiosk::scanner::camera::{CameraConfig, CameraSource, DeviceChoice, list_cameras};
use quickcard_kiosk::scanner::{FrameSource, SourceError};

fn poll(source: &mut CameraSource) -> Result<(), SourceError> {
    let start = Instant::now();
    loop {
        match source.next_frame() {
            Ok(Some(f)) => {
                assert!(f.width > 0 && f.rgb.is_some());
                return Ok(());
            }
            Ok(None) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => panic!("no frame and no error after 10 s"),
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn the_camera_delivers_frames_or_says_clearly_why_not() {
    let cams = list_cameras().expect("listing cameras works");
    let mut source = CameraSource::start(CameraConfig::default());
    let result = poll(&mut source);
    if cams.is_empty() {
        let e = result.expect_err("no camera here");
        assert_eq!(e, SourceError::NoCamera);
        assert!(e.is_transient(), "the kiosk keeps polling and recovers");
        assert!(e.to_string().contains("plug in a camera"));
    } else {
        match result {
            Ok(()) => {}
            Err(e) => assert_eq!(e, SourceError::Busy, "unexpected camera error: {e}"),
        }
    }
    drop(source); // stops the worker (must not hang)
}

#[test]
fn an_unknown_camera_name_lists_the_cameras_there_are() {
    let cams = list_cameras().expect("listing cameras works");
    let mut source = CameraSource::start(CameraConfig {
        device: DeviceChoice::parse("no such camera model 9000"),
        ..CameraConfig::default()
    });
    let e = poll(&mut source).expect_err("no such camera");
    if cams.is_empty() {
        assert_eq!(e, SourceError::NoCamera);
    } else {
        assert_eq!(e.code(), "camera_not_found");
        assert!(e.to_string().contains(&cams[0].name), "{e}");
    }
    assert_eq!(DeviceChoice::parse("2"), DeviceChoice::Index(2));
}
