// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAppAuth, IERC165} from "./IAppAuth.sol";
import {Owned} from "./Owned.sol";
import {DstackApp} from "./DstackApp.sol";

/// The KMS policy contract auth-eth reads: which KMS instances and apps may boot, and the gateway
/// app id. Same call surface as dstack's DstackKms for everything auth-eth and a deployment use;
/// not upgradeable (redeploy and point auth-eth at the new address instead).
contract DstackKms is Owned, IAppAuth, IERC165 {
    string public gatewayAppId;
    address public appImplementation;
    mapping(address => bool) public registeredApps;
    mapping(bytes32 => bool) public kmsAllowedAggregatedMrs;
    mapping(bytes32 => bool) public kmsAllowedDeviceIds;
    mapping(bytes32 => bool) public allowedOsImages;

    event AppRegistered(address appId);
    event AppDeployedViaFactory(address indexed appId, address indexed deployer);
    event GatewayAppIdSet(string gatewayAppId);
    event AppImplementationSet(address appImplementation);
    event KmsAggregatedMrAdded(bytes32 mrAggregated);
    event KmsAggregatedMrRemoved(bytes32 mrAggregated);
    event KmsDeviceAdded(bytes32 deviceId);
    event KmsDeviceRemoved(bytes32 deviceId);
    event OsImageHashAdded(bytes32 osImageHash);
    event OsImageHashRemoved(bytes32 osImageHash);

    constructor(address initialOwner, address _appImplementation) {
        _setOwner(initialOwner);
        if (_appImplementation != address(0)) {
            appImplementation = _appImplementation;
            emit AppImplementationSet(_appImplementation);
        }
    }

    function setGatewayAppId(string calldata value) external onlyOwner {
        gatewayAppId = value;
        emit GatewayAppIdSet(value);
    }

    function setAppImplementation(address value) external onlyOwner {
        require(value != address(0), "invalid app implementation");
        appImplementation = value;
        emit AppImplementationSet(value);
    }

    /// Anyone may register an app contract: the app's own policy still decides, and an address
    /// without code is refused at boot time.
    function registerApp(address appId) public {
        require(appId != address(0), "invalid app id");
        registeredApps[appId] = true;
        emit AppRegistered(appId);
    }

    /// Clones the app template (EIP-1167 minimal proxy), initialises and registers it.
    /// `disableUpgrades` is accepted for call compatibility; our apps are never upgradeable.
    function deployAndRegisterApp(
        address initialOwner,
        bool, /* disableUpgrades */
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external returns (address appId) {
        require(appImplementation != address(0), "app implementation not set");
        appId = _clone(appImplementation);
        DstackApp(appId).initialize(initialOwner, requireTcbUpToDate, allowAnyDevice, initialDeviceId, initialComposeHash);
        registerApp(appId);
        emit AppDeployedViaFactory(appId, msg.sender);
    }

    function addKmsAggregatedMr(bytes32 mr) external onlyOwner {
        kmsAllowedAggregatedMrs[mr] = true;
        emit KmsAggregatedMrAdded(mr);
    }

    function removeKmsAggregatedMr(bytes32 mr) external onlyOwner {
        kmsAllowedAggregatedMrs[mr] = false;
        emit KmsAggregatedMrRemoved(mr);
    }

    function addKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = true;
        emit KmsDeviceAdded(deviceId);
    }

    function removeKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = false;
        emit KmsDeviceRemoved(deviceId);
    }

    function addOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = true;
        emit OsImageHashAdded(osImageHash);
    }

    function removeOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = false;
        emit OsImageHashRemoved(osImageHash);
    }

    function isKmsAllowed(AppBootInfo calldata bootInfo) external view returns (bool, string memory) {
        if (keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedOsImages[bootInfo.osImageHash]) {
            return (false, "OS image is not allowed");
        }
        if (!kmsAllowedAggregatedMrs[bootInfo.mrAggregated]) {
            return (false, "Aggregated MR not allowed");
        }
        if (!kmsAllowedDeviceIds[bootInfo.deviceId]) {
            return (false, "KMS is not allowed to boot on this device");
        }
        return (true, "");
    }

    function isAppAllowed(AppBootInfo calldata bootInfo) external view override returns (bool, string memory) {
        if (!registeredApps[bootInfo.appId]) {
            return (false, "App not registered");
        }
        if (!allowedOsImages[bootInfo.osImageHash]) {
            return (false, "OS image is not allowed");
        }
        if (bootInfo.appId.code.length == 0) {
            return (false, "App not deployed or invalid address");
        }
        return IAppAuth(bootInfo.appId).isAppAllowed(bootInfo);
    }

    function supportsInterface(bytes4 interfaceId) external pure override returns (bool) {
        return interfaceId == type(IAppAuth).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    /// EIP-1167 minimal proxy creation code around `target`.
    function _clone(address target) private returns (address instance) {
        bytes memory code = abi.encodePacked(
            hex"3d602d80600a3d3981f3363d3d373d3d3d363d73", target, hex"5af43d82803e903d91602b57fd5bf3"
        );
        assembly {
            instance := create(0, add(code, 0x20), mload(code))
        }
        require(instance != address(0), "clone failed");
    }
}
