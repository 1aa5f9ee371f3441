namespace FlowOrleans.Transport.Security;

/// <summary>
/// A blessing name that failed validation: <see cref="FlowErrorCode.Auth"/> when the cryptography
/// does not hold, <see cref="FlowErrorCode.NotTrusted"/> when the chain is genuine but not acceptable
/// (unrecognised root, unmet or unknown caveat, missing or invalid discharge).
/// </summary>
public sealed record RejectedBlessing(string Name, FlowErrorCode Code, string Reason);
