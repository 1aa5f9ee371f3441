using System.Collections.Concurrent;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The flows a silo holds for callers, by flow ID: dialed ones, and accepted ones from their announcement on. A flow
/// becomes usable once claimed, and then only with the capability its claim returned: an unknown flow, an unclaimed one
/// and a wrong capability get the same answer, so flow IDs seen in announcements reveal and open nothing; an announced flow nobody claims within <see cref="FlowOrleansOptions.ClaimTimeout"/>
/// is closed, and so is a claimed flow whose lease (<see cref="FlowOrleansOptions.FlowLeaseTimeout"/>) ran out while
/// no reader waited. Stopping closes every flow.
/// </summary>
internal sealed partial class HostedFlows : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly ConcurrentDictionary<Guid, HostedFlow> _flows = new();
    private readonly FlowOrleansOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BackgroundWork _work = new();
    private readonly string _siloKey;
    private bool _stopped;

    public HostedFlows(IOptions<FlowOrleansOptions> options, ILocalSiloDetails siloDetails, TimeProvider time, ILogger<HostedFlows> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        _options = options.Value;
        _siloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
        _time = time;
        _logger = logger;
    }

    /// <summary>Every flow held, claimed or not; for status and tests.</summary>
    public ICollection<HostedFlow> All => _flows.Values;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(HostedFlows), SiloFlowStages.State, StartAsync, StopAsync);
    }

    internal Task StartAsync(CancellationToken cancellationToken)
    {
        _work.RunEvery(_options.FlowLeaseTimeout / 4, _time, _ => CloseExpiredLeasesAsync());
        return Task.CompletedTask;
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _stopped, true);
        await _work.StopAsync(cancellationToken);
        foreach (var id in _flows.Keys)
        {
            await CloseAsync(id);
        }
    }

    /// <summary>Holds <paramref name="flow"/> under a new flow ID, unclaimed.</summary>
    public HostedFlow Add(IFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var handle = new FlowHandle(
            _siloKey, Guid.NewGuid(), flow.LocalEndpoint, flow.RemoteEndpoint, flow.Connection.RemoteBlessingNames.ToArray(), _options.FlowLeaseTimeout);
        var hosted = new HostedFlow(flow, handle, _options, _time);
        _flows[handle.FlowId] = hosted;
        return hosted;
    }

    /// <summary>The handle of the flow held under <paramref name="flowId"/>, claimed or not; null if none is.</summary>
    public FlowHandle? Find(Guid flowId) => _flows.TryGetValue(flowId, out var flow) ? flow.Handle : null;

    /// <summary>Claims the flow for the caller and returns its capability; false if it is unknown or someone claimed it first.</summary>
    public bool TryClaim(Guid flowId, out Capability capability)
    {
        capability = default;
        if (!_flows.TryGetValue(flowId, out var flow) || !flow.TryClaim())
        {
            return false;
        }

        capability = flow.Capability;
        return true;
    }

    /// <summary>
    /// The claimed flow <paramref name="grant"/> names, if its capability is the flow's; otherwise (unknown, unclaimed,
    /// another capability) <see cref="FlowErrorCode.BadArg"/>, the same for each. Once the silo is stopping it holds no
    /// flow at all, and says so with <see cref="FlowErrorCode.Aborted"/>: a caller whose flow was closed by a SIGTERM
    /// learns why (seen in the chaos test), and nothing about any one flow is told.
    /// </summary>
    public HostedFlow Get(FlowGrant grant) => TryGet(grant, out var flow)
        ? flow
        : Volatile.Read(ref _stopped)
            ? throw new FlowException(FlowErrorCode.Aborted, $"Silo {_siloKey} is stopping: it closed every flow it held.")
            : throw new FlowException(FlowErrorCode.BadArg, $"Silo {_siloKey} holds no flow {grant.FlowId} for this caller.");

    /// <summary>Closes the flow <paramref name="grant"/> names if its capability is the flow's, and forgets it. Idempotent.</summary>
    public Task CloseAsync(FlowGrant grant) => TryGet(grant, out _) ? CloseAsync(grant.FlowId) : Task.CompletedTask;

    /// <summary>Closes the flow and forgets it, whoever holds it. Idempotent.</summary>
    internal async Task CloseAsync(Guid flowId)
    {
        if (_flows.TryRemove(flowId, out var flow))
        {
            await flow.DisposeAsync();
        }
    }

    /// <summary>Renews the leases of the flows <paramref name="grants"/> name; returns those this silo does not hold for their capability.</summary>
    public IReadOnlyList<Guid> Renew(IReadOnlyList<FlowGrant> grants)
    {
        ArgumentNullException.ThrowIfNull(grants);
        List<Guid>? gone = null;
        foreach (var grant in grants)
        {
            if (TryGet(grant, out var flow))
            {
                flow.Touch();
            }
            else
            {
                (gone ??= []).Add(grant.FlowId);
            }
        }

        return gone ?? (IReadOnlyList<Guid>)[];
    }

    /// <summary>
    /// Closes <paramref name="flow"/> unless someone claims it within the claim timeout; completes once that was
    /// decided, or when the silo stops. Callers need not wait for it.
    /// </summary>
    public Task CloseUnlessClaimedAsync(HostedFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        return CloseWhenUnclaimedAsync(flow, _work.Stopping);
    }

    /// <summary>Closes every flow whose lease ran out and that has no reader waiting.</summary>
    internal async Task CloseExpiredLeasesAsync()
    {
        var lease = _options.FlowLeaseTimeout;
        foreach (var flow in _flows.Values)
        {
            if (flow.IsLeaseExpired(lease))
            {
                LogLeaseExpired(_logger, _siloKey, flow.Handle.FlowId, lease);
                await CloseAsync(flow.Handle.FlowId);
            }
        }
    }

    public void Dispose() => _work.Dispose();

    private bool TryGet(FlowGrant grant, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostedFlow? flow) =>
        _flows.TryGetValue(grant.FlowId, out flow) && flow.IsClaimed && flow.Capability.Matches(grant.Capability);

    private async Task CloseWhenUnclaimedAsync(HostedFlow flow, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_options.ClaimTimeout, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!flow.IsClaimed)
        {
            LogUnclaimed(_logger, _siloKey, flow.Handle.FlowId);
            await CloseAsync(flow.Handle.FlowId);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} closed flow {FlowId}: nobody claimed it in time")]
    private static partial void LogUnclaimed(ILogger logger, string silo, Guid flowId);

    [LoggerMessage(2, LogLevel.Information, "Silo {Silo} closed flow {FlowId}: unused for longer than its lease ({Lease})")]
    private static partial void LogLeaseExpired(ILogger logger, string silo, Guid flowId, TimeSpan lease);
}
