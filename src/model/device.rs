//! Picking the libtorch device from the user's `--device` choice.

use tch::Device;

use crate::error::{Error, Result};
use crate::model::DeviceChoice;

/// Turns a [`DeviceChoice`] into a device: `auto` is the first CUDA GPU when libtorch sees
/// one and the CPU otherwise; `cuda` without a usable GPU is an error, never a silent fallback.
pub fn resolve(choice: DeviceChoice) -> Result<Device> {
    let device = match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Auto if tch::Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Auto => Device::Cpu,
        DeviceChoice::Cuda if tch::Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Cuda => {
            return Err(Error::invalid(
                "device",
                "cuda requested but no CUDA device is available (built without CUDA or no GPU)",
            ))
        }
    };
    tracing::debug!("device {choice:?} resolved to {device:?}");
    Ok(device)
}

/// A short name for a device, as stored in checkpoint metadata (`cpu`, `cuda:0`).
pub fn name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".to_string(),
        Device::Vulkan => "vulkan".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available() {
        assert_eq!(resolve(DeviceChoice::Cpu).unwrap(), Device::Cpu);
    }

    #[test]
    fn auto_matches_what_libtorch_sees() {
        let want = if tch::Cuda::is_available() { Device::Cuda(0) } else { Device::Cpu };
        assert_eq!(resolve(DeviceChoice::Auto).unwrap(), want);
    }

    #[test]
    fn names_are_short() {
        assert_eq!(name(Device::Cpu), "cpu");
        assert_eq!(name(Device::Cuda(1)), "cuda:1");
    }
}
