namespace FlowOrleans.Transport.Security;

/// <summary>
/// Hard bounds on everything decoded from untrusted bytes. Every count and length read off the wire is
/// checked against these (and against the bytes actually remaining) before anything is allocated.
/// </summary>
internal static class SecurityLimits
{
    /// <summary>An encoded <see cref="Blessings"/>, <see cref="Discharge"/> or <see cref="Discharges"/> is never larger.</summary>
    public const int MaxEncodedBytes = 64 * 1024;

    public const int MaxChains = 16;
    public const int MaxCertificatesPerChain = 32;
    public const int MaxCaveatsPerCertificate = 16;
    public const int MaxExtensionBytes = 512;
    public const int MaxPublicKeyBytes = 256;
    public const int MaxCaveatParameterBytes = 4 * 1024;
    public const int MaxMethodNames = 64;
    public const int MaxMethodNameBytes = 256;
    public const int MaxLocationBytes = 1024;
    public const int MaxDischarges = 64;
    public const int MaxDischargeIdBytes = 128;
    public const int MaxRoots = 4096;
    public const int MaxPatternBytes = 4 * 1024;

    /// <summary>Third-party caveats may sit on discharges that carry third-party caveats; cycles are possible, so depth is capped.</summary>
    public const int MaxCaveatNestingDepth = 4;
}
