namespace FlowOrleans.Transport.Security;

/// <summary>
/// The context caveats are checked against: when, which method (if any), what the peer presented.
/// </summary>
public sealed class SecurityCall
{
    /// <summary>The time expiry caveats are checked against (pass it in; validation never reads a clock).</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>The method being invoked; null at connection level, where method caveats are not met.</summary>
    public string? Method { get; init; }

    /// <summary>Discharges the peer presented for third-party caveats on its blessings.</summary>
    public Discharges RemoteDischarges { get; init; } = Discharges.Empty;

    /// <summary>
    /// The key the peer proved it holds (e.g. by signing the handshake). When set, blessings bound to
    /// any other key are rejected with <see cref="FlowErrorCode.Auth"/>.
    /// </summary>
    public PublicKey? RemotePublicKey { get; init; }

    public string? LocalEndpoint { get; init; }

    public string? RemoteEndpoint { get; init; }
}
