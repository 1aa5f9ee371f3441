using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Security;

/// <summary>
/// The authorizers the silo's transport judges peers with, from <c>FlowOrleans:Trust</c>: the acceptor's (peers that
/// dial the silo) and the one for each dial or pin, from the caller's patterns or else the configured default.
/// Everyone is accepted only where <see cref="SiloTrustOptions.AllowEveryone"/> says so and no pattern was named.
/// </summary>
internal sealed class SiloAuthorizers
{
    private readonly Principal _principal;
    private readonly SiloTrustOptions _trust;
    private readonly IPeerAuthorizer? _defaultDial;

    public SiloAuthorizers(SiloPrincipal principal, IOptions<FlowOrleansOptions> options)
        : this(principal.Principal, options.Value.Trust)
    {
    }

    internal SiloAuthorizers(Principal principal, SiloTrustOptions trust)
    {
        _principal = principal;
        _trust = trust;
        Acceptor = trust.AcceptPatterns.Count > 0
            ? PeerAuthorizers.RequireBlessings(principal, [.. trust.AcceptPatterns])
            : PeerAuthorizers.AllowEveryone(principal);
        _defaultDial = trust.DialPatterns.Count > 0
            ? PeerAuthorizers.RequireBlessings(principal, [.. trust.DialPatterns])
            : trust.AllowEveryone ? PeerAuthorizers.AllowEveryone(principal) : null;
    }

    /// <summary>Judges peers that dial the silo (options validation refuses empty patterns unless everyone is allowed).</summary>
    public IPeerAuthorizer Acceptor { get; }

    /// <summary>True if some peer the silo accepts or dials by default is judged by no pattern at all.</summary>
    public bool AllowsEveryone => _trust.AllowEveryone && (_trust.AcceptPatterns.Count == 0 || _trust.DialPatterns.Count == 0);

    /// <summary>
    /// Judges the peer of a dial or pin: it must match one of <paramref name="patterns"/>, or the configured
    /// <see cref="SiloTrustOptions.DialPatterns"/> when the caller named none. Malformed patterns are
    /// <see cref="FlowErrorCode.BadArg"/>; no patterns and no default is <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public IPeerAuthorizer ForDial(IReadOnlyList<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Count > 0)
        {
            return PeerAuthorizers.RequireBlessings(_principal, [.. patterns]);
        }

        return _defaultDial ?? throw new FlowException(FlowErrorCode.NotTrusted,
            $"Name the blessing patterns the peer must present: this silo has no default ({FlowOrleansOptions.TrustSectionName}:DialPatterns).");
    }
}
