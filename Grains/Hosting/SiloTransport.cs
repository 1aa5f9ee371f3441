using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The silo's flow transport: the <see cref="IFlowManager"/> the container built from <c>FlowOrleans:Transport</c>,
/// listening on <see cref="FlowOrleansOptions.Listen"/> from the silo's Active stage and closed when the silo stops.
/// Dials and listens on behalf of callers, bounded by the silo's life as well as by the caller's token.
/// </summary>
public sealed partial class SiloTransport : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly FlowOrleansOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();

    public SiloTransport(IFlowManager manager, IOptions<FlowOrleansOptions> options, ILocalSiloDetails siloDetails, ILogger<SiloTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        Manager = manager;
        _options = options.Value;
        _logger = logger;
        SiloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
        Authorizer = PeerAuthorizers.AllowEveryone(manager.Principal);
    }

    /// <summary>The key of this silo's <see cref="ISiloFlowGrain"/>.</summary>
    public string SiloKey { get; }

    internal IFlowManager Manager { get; }

    /// <summary>Judges peers this silo dials when the caller names no blessings: any peer that authenticates.</summary>
    internal IPeerAuthorizer Authorizer { get; }

    /// <summary>Completes once the manager listens on every configured address; faults if it could not.</summary>
    public Task Started => _started.Task;

    /// <summary>Where peers reach this silo's flow manager.</summary>
    public IReadOnlyList<Endpoint> Endpoints => Manager.Status.Endpoints;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloTransport), SiloFlowStages.Transport, StartAsync, StopAsync);
    }

    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<ListenAddress> listen = _options.Listen.Count == 0
                ? [new ListenAddress("tcp", "127.0.0.1:0")]
                : _options.Listen.Select(ListenAddress.Parse).ToArray();
            foreach (var address in listen)
            {
                await ListenAsync(address, cancellationToken);
            }

            _started.TrySetResult();
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            throw;
        }
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Manager.DisposeAsync();
    }

    /// <summary>Starts listening on <paramref name="address"/>; returns the new listener's endpoint.</summary>
    internal async Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var listener = await Manager.ListenAsync(address.Protocol, address.Address, both.Token);
        LogListening(_logger, SiloKey, listener.Endpoint);
        return listener.Endpoint;
    }

    /// <summary>Opens a flow to <paramref name="remote"/>; a zero <paramref name="channelTimeout"/> means the configured default.</summary>
    internal async Task<IFlow> DialAsync(Endpoint remote, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        var timeout = channelTimeout == TimeSpan.Zero ? _options.DefaultChannelTimeout : channelTimeout;
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var flow = await Manager.DialAsync(remote, Authorizer, timeout, both.Token);
        LogDialed(_logger, SiloKey, remote);
        return flow;
    }

    /// <summary>Judges peers that must present a blessing matching one of <paramref name="patterns"/>; none: anyone.</summary>
    internal IPeerAuthorizer AuthorizerFor(IReadOnlyList<string> patterns) =>
        patterns.Count == 0 ? Authorizer : PeerAuthorizers.RequireBlessings(Manager.Principal, patterns.ToArray());

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} flow manager listens on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string silo, Endpoint endpoint);

    [LoggerMessage(2, LogLevel.Debug, "Silo {Silo} dialed {Endpoint}")]
    private static partial void LogDialed(ILogger logger, string silo, Endpoint endpoint);
}
