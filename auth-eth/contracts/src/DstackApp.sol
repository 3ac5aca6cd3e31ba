// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAppAuth, IAppAuthBasicManagement, IERC165} from "./IAppAuth.sol";
import {Owned} from "./Owned.sol";

/// Per-app boot policy: allowed compose hashes and devices, optionally an up-to-date TCB.
/// Deployed once as a template; DstackKms hands out minimal-proxy clones that call initialize().
/// Not upgradeable: a new policy is a new app contract or an edit of these allowlists.
contract DstackApp is Owned, IAppAuth, IAppAuthBasicManagement, IERC165 {
    mapping(bytes32 => bool) public allowedComposeHashes;
    mapping(bytes32 => bool) public allowedDeviceIds;
    bool public allowAnyDevice;
    bool public requireTcbUpToDate;
    bool private _initialized;

    event AllowAnyDeviceSet(bool allowAnyDevice);
    event RequireTcbUpToDateSet(bool requireTcbUpToDate);

    /// The template itself is locked; only clones are initialised.
    constructor() {
        _initialized = true;
    }

    function initialize(
        address initialOwner,
        bool _requireTcbUpToDate,
        bool _allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external {
        require(!_initialized, "already initialized");
        _initialized = true;
        _setOwner(initialOwner);
        requireTcbUpToDate = _requireTcbUpToDate;
        allowAnyDevice = _allowAnyDevice;
        if (initialDeviceId != bytes32(0)) {
            allowedDeviceIds[initialDeviceId] = true;
            emit DeviceAdded(initialDeviceId);
        }
        if (initialComposeHash != bytes32(0)) {
            allowedComposeHashes[initialComposeHash] = true;
            emit ComposeHashAdded(initialComposeHash);
        }
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function addComposeHash(bytes32 composeHash) external onlyOwner {
        allowedComposeHashes[composeHash] = true;
        emit ComposeHashAdded(composeHash);
    }

    function removeComposeHash(bytes32 composeHash) external onlyOwner {
        allowedComposeHashes[composeHash] = false;
        emit ComposeHashRemoved(composeHash);
    }

    function addDevice(bytes32 deviceId) external onlyOwner {
        allowedDeviceIds[deviceId] = true;
        emit DeviceAdded(deviceId);
    }

    function removeDevice(bytes32 deviceId) external onlyOwner {
        allowedDeviceIds[deviceId] = false;
        emit DeviceRemoved(deviceId);
    }

    function setAllowAnyDevice(bool value) external onlyOwner {
        allowAnyDevice = value;
        emit AllowAnyDeviceSet(value);
    }

    function setRequireTcbUpToDate(bool value) external onlyOwner {
        requireTcbUpToDate = value;
        emit RequireTcbUpToDateSet(value);
    }

    function isAppAllowed(AppBootInfo calldata bootInfo) external view override returns (bool, string memory) {
        if (requireTcbUpToDate && keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedComposeHashes[bootInfo.composeHash]) {
            return (false, "Compose hash not allowed");
        }
        if (!allowAnyDevice && !allowedDeviceIds[bootInfo.deviceId]) {
            return (false, "Device not allowed");
        }
        return (true, "");
    }

    function supportsInterface(bytes4 interfaceId) external pure override returns (bool) {
        return interfaceId == type(IAppAuth).interfaceId
            || interfaceId == type(IAppAuthBasicManagement).interfaceId
            || interfaceId == type(IERC165).interfaceId;
    }
}
