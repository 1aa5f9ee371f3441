using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The flow transport of one silo: owns the silo's <see cref="FlowManager"/> from the silo's Active stage until it
/// stops, listens on the configured addresses, announces accepted flows on the accept stream, and holds the flows
/// that callers dialed or claimed until they close them or their lease runs out.
/// </summary>
public sealed partial class SiloFlowHost : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly FlowOrleansOptions _options;
    private readonly IClusterClient _clusterClient;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, HostedFlow> _flows = new();
    private readonly ConcurrentDictionary<IManagedConnection, RoutingId> _registered = new();
    private readonly ConcurrentDictionary<string, (PinRequest Request, IPinnedConnection Pin)> _pins = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _pinLock = new(1, 1);
    private readonly IClusterMembershipService _membership;
    private readonly TimeProvider _time;
    private readonly IMeterFactory _meterFactory;
    private Task _membershipWatch = Task.CompletedTask;
    private Task _leaseSweep = Task.CompletedTask;
    private Task _startupPinCheck = Task.CompletedTask;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private FlowManager? _manager;
    private Principal? _principal;
    private IPeerAuthorizer? _authorizer;
    private Task _acceptLoop = Task.CompletedTask;
    private int _stopped;

    public SiloFlowHost(
        IOptions<FlowOrleansOptions> options,
        ILocalSiloDetails siloDetails,
        IClusterClient clusterClient,
        IClusterMembershipService membership,
        TimeProvider time,
        IMeterFactory meterFactory,
        ILoggerFactory loggerFactory)
    {
        _meterFactory = meterFactory;
        _membership = membership;
        _time = time;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        _options = options.Value;
        _clusterClient = clusterClient;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<SiloFlowHost>();
        SiloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
    }

    /// <summary>The key of this silo's <see cref="ISiloFlowGrain"/>.</summary>
    public string SiloKey { get; }

    /// <summary>Completes once the manager listens on every configured address; faults if it could not.</summary>
    public Task Started => _started.Task;

    /// <summary>Where peers reach this silo's flow manager.</summary>
    public IReadOnlyList<Endpoint> Endpoints => Manager.Status.Endpoints;

    /// <summary>The silo's manager; only valid after <see cref="Started"/>.</summary>
    internal FlowManager Manager => _manager ?? throw new FlowException(FlowErrorCode.BadState, "The silo's flow transport has not started.");

    /// <summary>Flows held for callers; for status and tests.</summary>
    internal ICollection<HostedFlow> Flows => _flows.Values;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);

        // Active: grains and streams work by then, so the first accepted flow can be announced. Stopping runs first on shutdown.
        lifecycle.Subscribe(nameof(SiloFlowHost), ServiceLifecycleStage.Active, StartAsync, StopAsync);
    }

    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _principal = LoadPrincipal();
            _authorizer = PeerAuthorizers.AllowEveryone(_principal);
            _manager = new FlowManager(new FlowManagerOptions { Principal = _principal, LoggerFactory = _loggerFactory, MeterFactory = _meterFactory });
            var listen = _options.Listen.Count == 0 ? ["tcp/127.0.0.1:0"] : _options.Listen.ToArray();
            foreach (var text in listen)
            {
                var address = ListenAddress.Parse(text);
                var listener = await _manager.ListenAsync(address.Protocol, address.Address, cancellationToken);
                LogListening(_logger, SiloKey, listener.Endpoint.ToString());
            }

            _acceptLoop = Task.Run(() => AcceptLoopAsync(_stopping.Token), CancellationToken.None);
            _membershipWatch = Task.Run(() => WatchMembershipAsync(_stopping.Token), CancellationToken.None);
            _leaseSweep = Task.Run(() => SweepLeasesAsync(_stopping.Token), CancellationToken.None);
            if (_options.EnsurePinsOnStart)
            {
                // In the background: a full restart's pins come back as soon as this silo serves, without holding up its start.
                _startupPinCheck = Task.Run(CheckPinsOnStartAsync, CancellationToken.None);
            }

            _started.TrySetResult();
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            throw;
        }
    }

    /// <summary>Stops the transport if the lifecycle did not (a silo that failed to start). Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
        _pinLock.Dispose();
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (var (_, pin) in _pins.Values)
        {
            pin.Unpin();
        }

        _pins.Clear();
        foreach (var id in _flows.Keys)
        {
            if (_flows.TryRemove(id, out var flow))
            {
                await flow.DisposeAsync();
            }
        }

        if (_manager is not null)
        {
            await _manager.DisposeAsync();
        }

        try
        {
            await Task.WhenAll(_acceptLoop, _membershipWatch, _leaseSweep, _startupPinCheck).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        _principal?.Dispose();
    }

    internal async Task<HostedFlow> DialAsync(string endpoint, TimeSpan channelTimeout, CancellationToken cancellationToken)
    {
        if (!Endpoint.TryParse(endpoint, out var remote))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"'{endpoint}' is not an endpoint.");
        }

        var timeout = channelTimeout == TimeSpan.Zero ? _options.DefaultChannelTimeout : channelTimeout;
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var flow = await Manager.DialAsync(remote, _authorizer!, timeout, both.Token);
        var hosted = Add(flow);
        hosted.TryClaim();
        await RegisterConnectionAsync(flow.Connection);
        LogDialed(_logger, SiloKey, endpoint, hosted.Handle.FlowId);
        return hosted;
    }

    internal bool TryClaim(Guid flowId) => _flows.TryGetValue(flowId, out var flow) && flow.TryClaim();

    /// <summary>The claimed flow <paramref name="flowId"/>; unknown and unclaimed ones are <see cref="FlowErrorCode.BadArg"/>.</summary>
    internal HostedFlow Get(Guid flowId) => _flows.TryGetValue(flowId, out var flow) && flow.IsClaimed
        ? flow
        : throw new FlowException(FlowErrorCode.BadArg, $"Silo {SiloKey} holds no flow {flowId} for callers.");

    internal async Task CloseAsync(Guid flowId)
    {
        if (_flows.TryRemove(flowId, out var flow))
        {
            await flow.DisposeAsync();
        }
    }

    /// <summary>Renews the leases of <paramref name="flowIds"/>; returns those this silo does not hold (closed or expired).</summary>
    internal IReadOnlyList<Guid> Renew(IReadOnlyList<Guid> flowIds)
    {
        List<Guid>? gone = null;
        foreach (var id in flowIds)
        {
            if (_flows.TryGetValue(id, out var flow))
            {
                flow.Touch();
            }
            else
            {
                (gone ??= []).Add(id);
            }
        }

        return gone ?? (IReadOnlyList<Guid>)[];
    }

    internal async Task<string> ListenAsync(string protocol, string address, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var listener = await Manager.ListenAsync(protocol, address, both.Token);
        LogListening(_logger, SiloKey, listener.Endpoint.ToString());
        return listener.Endpoint.ToString();
    }

    internal SiloFlowStatus GetStatus()
    {
        var manager = Manager;
        var connections = manager.Connections
            .Select(c => new ConnectionStatus(c.RemoteEndpoint.ToString(), c.RemoteBlessingNames.ToArray(), c.Rtt, c.Counters.OpenFlows))
            .ToArray();
        var pins = _pins.Select(p => Describe(p.Key, p.Value.Request, p.Value.Pin)).ToArray();
        return new SiloFlowStatus(SiloKey, manager.RoutingId.ToString(), manager.Status.Endpoints.Select(e => e.ToString()).ToArray(), connections, _flows.Count, pins);
    }

    /// <summary>Closes flows whose callers stopped using them for longer than the lease.</summary>
    private async Task SweepLeasesAsync(CancellationToken cancellationToken)
    {
        var lease = _options.FlowLeaseTimeout;
        using var timer = new PeriodicTimer(lease / 4, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var flow in _flows.Values)
                {
                    if (flow.IsLeaseExpired(lease))
                    {
                        LogLeaseExpired(_logger, SiloKey, flow.Handle.FlowId, lease);
                        await CloseAsync(flow.Handle.FlowId);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private Principal LoadPrincipal()
    {
        if (_options.PrincipalDirectory is { Length: > 0 } directory)
        {
            var stored = Principal.LoadOrCreate(directory);
            if (stored.DefaultBlessings.IsEmpty)
            {
                stored.DefaultBlessings = stored.BlessSelf(_options.BlessingName);
                stored.Save(directory);
            }

            return stored;
        }

        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(_options.BlessingName);
        return principal;
    }

    private HostedFlow Add(IFlow flow)
    {
        var handle = new FlowHandle(
            SiloKey, Guid.NewGuid(), flow.LocalEndpoint.ToString(), flow.RemoteEndpoint.ToString(), flow.Connection.RemoteBlessingNames.ToArray(), _options.FlowLeaseTimeout);
        var hosted = new HostedFlow(flow, handle, _options, _time);
        _flows[handle.FlowId] = hosted;
        return hosted;
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        var stream = _clusterClient.GetStreamProvider(_options.StreamProvider)
            .GetStream<FlowHandle>(StreamId.Create(FlowStreamNames.AcceptNamespace, _options.ListenName));
        while (!cancellationToken.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await Manager.AcceptAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or FlowException && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (FlowException e)
            {
                LogAcceptFailed(_logger, e, SiloKey);
                continue;
            }

            var hosted = Add(flow);
            try
            {
                // Registered before the announcement, so whoever sees the flow can already reach the peer by routing ID.
                await RegisterConnectionAsync(flow.Connection);
                await stream.OnNextAsync(hosted.Handle);
                LogAnnounced(_logger, SiloKey, hosted.Handle.FlowId, hosted.Handle.RemoteEndpoint, _options.ListenName);
                _ = ExpireUnclaimedAsync(hosted, cancellationToken);
            }
#pragma warning disable CA1031 // A failed announcement must close that one flow, never end the accept loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogAnnounceFailed(_logger, e, SiloKey, hosted.Handle.FlowId);
                await CloseAsync(hosted.Handle.FlowId);
            }
        }
    }

    private async Task ExpireUnclaimedAsync(HostedFlow flow, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_options.ClaimTimeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!flow.IsClaimed)
        {
            LogUnclaimed(_logger, SiloKey, flow.Handle.FlowId);
            await CloseAsync(flow.Handle.FlowId);
        }
    }
}
