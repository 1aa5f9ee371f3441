using System.Diagnostics.Metrics;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowOrleans.Transport.Manager;

/// <summary>Settings of a <see cref="FlowManager"/>; <see cref="Validate"/> runs when the manager is built.</summary>
public sealed class FlowManagerOptions
{
    /// <summary>The manager's identity. Default: a new in-memory principal blessed as <c>flow-manager</c>.</summary>
    public Principal? Principal { get; set; }

    /// <summary>The manager's routing ID. Default: a new random one. <see cref="RoutingId.Null"/> makes a dial-only manager.</summary>
    public RoutingId? RoutingId { get; set; }

    /// <summary>
    /// Whether a dial-only manager (<see cref="RoutingId"/> null) presents public-key-only blessings
    /// (<see cref="Blessings.Nameless"/>) instead of what the dial's authorizer picks. Default true, Vanadium's rule:
    /// servers learn no names from a client nobody can dial back. Set false for servers that must authorize such
    /// clients by name: Vanadium carries a client's names on each flow, this transport only in the handshake.
    /// </summary>
    public bool NamelessWhenDialOnly { get; set; } = true;

    /// <summary>
    /// Judges peers that dial in, and every peer that opens flows here, over connections this manager dialed too (their
    /// flows are refused with <see cref="FlowErrorCode.NotTrusted"/>). Default: <see cref="PeerAuthorizers.AllowEveryone"/>.
    /// </summary>
    public IPeerAuthorizer? AcceptorAuthorizer { get; set; }

    /// <summary>Protocols to listen and dial with. Default: <see cref="ProtocolRegistry.Default"/>.</summary>
    public ProtocolRegistry? Protocols { get; set; }

    /// <summary>Connection tuning shared by every connection of the manager; they run on the manager's <see cref="TimeProvider"/>.</summary>
    public ConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// The manager's one clock. Dial timeouts, pin and proxy-registration backoff and eviction grace run on it, and so
    /// does every connection the manager dials or accepts (handshake timeout, health checks, flow deadlines, window
    /// tuning) whatever <see cref="ConnectionOptions.TimeProvider"/> says. Default <see cref="TimeProvider.System"/>;
    /// left at the default, the clock is <see cref="Connection"/>'s <see cref="ConnectionOptions.TimeProvider"/>, so
    /// settings that gave only the connections a clock give it to the whole manager. Setting the two to different
    /// clocks is invalid.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long a dial may take to connect and authenticate. Default 30 s.</summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cached connections above which idle ones are evicted, least recently used first. Default 256.</summary>
    public int MaxCachedConnections { get; set; } = 256;

    /// <summary>
    /// How long a cached connection may carry no flows (side channels do not count) before the manager puts it into lame
    /// duck and closes it; pinned connections never expire. Checked every half of it (at most every 30 min, at least every
    /// 10 ms), on the manager's clock. Default 10 min, as Vanadium's runtime; <see cref="Timeout.InfiniteTimeSpan"/>
    /// keeps idle connections until evicted.
    /// </summary>
    public TimeSpan IdleExpiry { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Flows waiting in <see cref="FlowManager.AcceptAsync"/>; more are refused. Default 1024.</summary>
    public int AcceptBacklog { get; set; } = 1024;

    /// <summary>
    /// Upper bound of receive buffering across all the manager's connections: every connection's shared credit and
    /// flow windows are reserved from it as well as from the connection's own <see cref="ConnectionOptions.ReceiveBudget"/>.
    /// When it is spent, new flows are refused and new connections closed until buffers drain. At least
    /// <see cref="Connection"/>'s <see cref="ConnectionOptions.ReceiveBudget"/>. Default 512 MiB.
    /// </summary>
    public long TotalReceiveBudget { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Accepted connections whose handshake may run at once, across all listeners and proxies (each holds buffers and
    /// runs cryptography for a peer nobody has authenticated yet). A connection accepted while that many run closes the
    /// oldest of them at once, so idle connections cannot lock out peers that complete their handshake. Default 128.
    /// </summary>
    public int MaxPendingHandshakes { get; set; } = 128;

    /// <summary>First delay before re-dialing a dropped pinned connection; doubles per failure, with ±50 % jitter. Default 100 ms.</summary>
    public TimeSpan PinBackoffMin { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between re-dials of a pinned connection. Default 30 s.</summary>
    public TimeSpan PinBackoffMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Creates the manager's meter (<c>FlowOrleans.Transport</c>); a host's DI provides one. Default: none, a meter of its own.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Creates the manager's logger. Default: no logging.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>The clock the manager and its connections run on (see <see cref="TimeProvider"/>); null when the settings disagree.</summary>
    internal TimeProvider? Clock => Connection.ClockOf(TimeProvider);

    /// <summary>Throws <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Check(Connection is not null, "Connection is required");
        Connection!.Validate();
        Check(TimeProvider is not null, "TimeProvider is required");
        Check(Clock is not null, "TimeProvider and Connection.TimeProvider name two different clocks; set one of them");
        Check(DialTimeout > TimeSpan.Zero, "DialTimeout must be positive");
        Check(MaxCachedConnections >= 1, "MaxCachedConnections must be positive");
        Check(IdleExpiry > TimeSpan.Zero || IdleExpiry == Timeout.InfiniteTimeSpan, "IdleExpiry must be positive or Timeout.InfiniteTimeSpan");
        Check(AcceptBacklog >= 1, "AcceptBacklog must be positive");
        Check(TotalReceiveBudget >= Connection.ReceiveBudget, "TotalReceiveBudget must be at least Connection.ReceiveBudget");
        Check(MaxPendingHandshakes >= 1, "MaxPendingHandshakes must be positive");
        Check(PinBackoffMin > TimeSpan.Zero && PinBackoffMax >= PinBackoffMin, "PinBackoffMin must be positive and not above PinBackoffMax");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Invalid FlowManagerOptions: " + message + ".");
        }
    }
}
