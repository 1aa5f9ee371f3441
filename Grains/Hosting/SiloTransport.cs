using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
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
/// Dials, pins and listens on behalf of callers, bounded by the silo's life as well as by the caller's token: each
/// request passes the client policy (<see cref="ClientRequestPolicy"/>) before the network is touched, and the peer
/// must satisfy the caller's blessing patterns or the configured default (<see cref="SiloAuthorizers"/>).
/// </summary>
public sealed partial class SiloTransport : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly FlowOrleansOptions _options;
    private readonly SiloAuthorizers _authorizers;
    private readonly ClientRequestPolicy _policy;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();

    internal SiloTransport(
        IFlowManager manager,
        IOptions<FlowOrleansOptions> options,
        ILocalSiloDetails siloDetails,
        SiloAuthorizers authorizers,
        ClientRequestPolicy policy,
        ILogger<SiloTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        Manager = manager;
        _options = options.Value;
        _authorizers = authorizers;
        _policy = policy;
        _logger = logger;
        SiloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
    }

    /// <summary>The key of this silo's <see cref="ISiloFlowGrain"/>.</summary>
    public string SiloKey { get; }

    internal IFlowManager Manager { get; }

    /// <summary>Completes once the manager listens on every configured address; faults if it could not.</summary>
    public Task Started => _started.Task;

    /// <summary>Where peers reach this silo's flow manager.</summary>
    public IReadOnlyList<Endpoint> Endpoints => Manager.Status.Endpoints;

    /// <summary>True when some peer is accepted or dialed without any blessing pattern (<c>FlowOrleans:Trust:AllowEveryone</c>).</summary>
    public bool AllowsEveryone => _authorizers.AllowsEveryone;

    /// <summary>The defaults the client policy's unset rules take.</summary>
    public PolicyProfile PolicyProfile => _policy.Profile;

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

    /// <summary>Starts listening on <paramref name="address"/>, one of the silo's own; returns the new listener's endpoint.</summary>
    internal async Task<Endpoint> ListenAsync(ListenAddress address, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var listener = await Manager.ListenAsync(address.Protocol, address.Address, both.Token);
        LogListening(_logger, SiloKey, listener.Endpoint);
        return listener.Endpoint;
    }

    /// <summary>Listens on <paramref name="address"/> for a client, if the policy lets clients ask for it.</summary>
    internal Task<Endpoint> ListenForClientAsync(ListenAddress address, CancellationToken cancellationToken)
    {
        _policy.CheckListen(address);
        return ListenAsync(address, cancellationToken);
    }

    /// <summary>
    /// Opens a flow to <paramref name="remote"/> for a client; a zero <paramref name="channelTimeout"/> means the configured
    /// default. A failure other than an untrusted peer or a cancellation is reported as one <see cref="FlowErrorCode.DialFailed"/>
    /// without its cause (logged here), so a caller learns nothing about closed, filtered or non-flow ports.
    /// </summary>
    internal Task<IFlow> DialForClientAsync(Endpoint remote, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken) =>
        DialForClientAsync(remote, blessingPatterns, channelTimeout, cachedOnly: false, cancellationToken);

    /// <summary>
    /// Like <see cref="DialForClientAsync(Endpoint, IReadOnlyList{string}, TimeSpan, CancellationToken)"/> but only over a
    /// connection the manager already caches (Vanadium's <c>DialCached</c>): it never dials. None cached stays
    /// <see cref="FlowErrorCode.BadState"/>, as the Transport says it; that reveals no more than the silo's status does.
    /// </summary>
    internal Task<IFlow> DialCachedForClientAsync(Endpoint remote, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, CancellationToken cancellationToken) =>
        DialForClientAsync(remote, blessingPatterns, channelTimeout, cachedOnly: true, cancellationToken);

    /// <summary>Stops every listener and proxy registration and puts every cached connection into lame duck.</summary>
    internal async Task StopListeningAsync(CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        await Manager.StopListeningAsync(both.Token);
        LogStoppedListening(_logger, SiloKey);
    }

    /// <summary>Registers the manager with the proxy at <paramref name="proxy"/>, which must satisfy <paramref name="blessingPatterns"/> or the default.</summary>
    internal async Task<Endpoint> ProxyListenAsync(string name, Endpoint proxy, IReadOnlyList<string> blessingPatterns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var authorizer = _authorizers.ForDial(blessingPatterns);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        var listener = await Manager.ProxyListenAsync(name, proxy, authorizer, both.Token);
        LogListening(_logger, SiloKey, listener.Endpoint);
        return listener.Endpoint;
    }

    private async Task<IFlow> DialForClientAsync(Endpoint remote, IReadOnlyList<string> blessingPatterns, TimeSpan channelTimeout, bool cachedOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var authorizer = _authorizers.ForDial(blessingPatterns);
        var target = await _policy.CheckDialAsync(remote, cancellationToken);
        var timeout = channelTimeout == TimeSpan.Zero ? _options.DefaultChannelTimeout : channelTimeout;
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        try
        {
            // The manager reuses only a connection whose peer this authorizer accepts, else dials and judges anew.
            var flow = cachedOnly
                ? await Manager.DialCachedAsync(target, authorizer, timeout, both.Token)
                : await Manager.DialAsync(target, authorizer, timeout, both.Token);
            LogDialed(_logger, SiloKey, target);
            return flow;
        }
        catch (FlowException e) when (e.Code is not (FlowErrorCode.NotTrusted or FlowErrorCode.Aborted) && !(cachedOnly && e.Code == FlowErrorCode.BadState))
        {
            throw Unreachable(e, remote);
        }
    }

    /// <summary>Pins a connection to <paramref name="request"/>'s endpoint, under the same policy and trust as a client's dial.</summary>
    internal async Task<IPinnedConnection> PinForClientAsync(PinRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorizer = _authorizers.ForDial(request.BlessingPatterns);
        var target = await _policy.CheckDialAsync(request.Endpoint, cancellationToken);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        try
        {
            return await Manager.PinConnectionAsync(target, authorizer, request.ChannelTimeout, both.Token);
        }
        catch (FlowException e) when (e.Code is not (FlowErrorCode.NotTrusted or FlowErrorCode.Aborted))
        {
            throw Unreachable(e, request.Endpoint);
        }
    }

    /// <summary>Checks a pin request against the policy and trust without dialing, so a refused pin is never stored.</summary>
    internal async Task CheckPinAsync(PinRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        _ = _authorizers.ForDial(request.BlessingPatterns);
        await _policy.CheckDialAsync(request.Endpoint, cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();

    private FlowException Unreachable(FlowException cause, Endpoint remote)
    {
        LogDialFailed(_logger, cause, SiloKey, remote);
        return new FlowException(FlowErrorCode.DialFailed, $"The silo could not open a flow to {remote}.");
    }

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} flow manager listens on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string silo, Endpoint endpoint);

    [LoggerMessage(2, LogLevel.Debug, "Silo {Silo} dialed {Endpoint}")]
    private static partial void LogDialed(ILogger logger, string silo, Endpoint endpoint);

    [LoggerMessage(3, LogLevel.Information, "Silo {Silo} could not dial {Endpoint} for a client")]
    private static partial void LogDialFailed(ILogger logger, Exception exception, string silo, Endpoint endpoint);

    [LoggerMessage(4, LogLevel.Warning, "Silo {Silo} stopped listening: its connections are in lame duck")]
    private static partial void LogStoppedListening(ILogger logger, string silo);
}
