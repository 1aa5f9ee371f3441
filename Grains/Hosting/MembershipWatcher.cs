using FlowOrleans.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// What the cluster must redo when its membership changes. When a silo dies, its pins must move, but the pin grains of
/// those pins may have died with it (and their timers); so every surviving silo asks every pin to check its owner
/// (ensuring is idempotent: duplicates only cost calls) and purges the dead silo's routing-ID registrations, which it
/// cannot remove itself. A starting silo also asks every pin to check (<see cref="FlowOrleansOptions.EnsurePinsOnStart"/>),
/// so after a full restart pins come back as soon as a silo serves, not at the next reminder tick.
/// </summary>
internal sealed partial class MembershipWatcher : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly IClusterMembershipService _membership;
    private readonly IGrainFactory _grains;
    private readonly FlowOrleansOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _siloKey;
    private readonly BackgroundWork _work = new();

    public MembershipWatcher(
        IClusterMembershipService membership,
        IGrainFactory grains,
        IOptions<FlowOrleansOptions> options,
        ILocalSiloDetails siloDetails,
        TimeProvider time,
        ILogger<MembershipWatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        _membership = membership;
        _grains = grains;
        _options = options.Value;
        _siloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
        _time = time;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(MembershipWatcher), SiloFlowStages.Loops, StartAsync, _work.StopAsync);
    }

    /// <summary>The keys of silos that are dead in <paramref name="current"/> and were not in <paramref name="previous"/>.</summary>
    internal static IReadOnlyList<string> NewlyDead(ClusterMembershipSnapshot previous, ClusterMembershipSnapshot current) =>
        current.CreateUpdate(previous).Changes.Where(c => c.Status == SiloStatus.Dead).Select(c => SiloKeys.ToKey(c.SiloAddress)).ToArray();

    public void Dispose() => _work.Dispose();

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _work.Run(WatchAsync);
        if (_options.EnsurePinsOnStart)
        {
            // In the background: a full restart's pins come back as soon as this silo serves, without holding up its start.
            _work.Run(_ => CheckPinsOnStartAsync());
        }

        return Task.CompletedTask;
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var previous = _membership.CurrentSnapshot;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(cancellationToken))
                {
                    var dead = NewlyDead(previous, snapshot);
                    previous = snapshot;
                    if (dead.Count > 0)
                    {
                        await Task.WhenAll(EnsureAllPinsAsync(), PurgeRoutesAsync(dead));
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The watch must outlive any one failure; it retries after a pause.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogWatchFailed(_logger, e, _siloKey);
                try
                {
                    await Task.Delay(RetryDelay, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task CheckPinsOnStartAsync()
    {
        try
        {
            await EnsureAllPinsAsync();
        }
#pragma warning disable CA1031 // The pins' reminders are the fallback; a failed check must not fault the silo's stop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogPinCheckFailed(_logger, e, _siloKey, "*");
        }
    }

    private async Task EnsureAllPinsAsync()
    {
        var names = await _grains.GetGrain<IPinIndexGrain>(0).ListAsync();
        await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                await _grains.GetGrain<IPinnedConnectionGrain>(name).EnsureAsync();
            }
#pragma warning disable CA1031 // One pin failing to move must not stop the others; its own timer retries.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogPinCheckFailed(_logger, e, _siloKey, name);
            }
        }));
    }

    /// <summary>
    /// Drops dead silos' routing-ID registrations. Every surviving silo sees the death and asks; the first purge
    /// empties the index, so the rest cost one call each.
    /// </summary>
    private async Task PurgeRoutesAsync(IReadOnlyList<string> deadSilos)
    {
        foreach (var silo in deadSilos)
        {
            try
            {
                await _grains.GetGrain<ISiloRoutesGrain>(silo).PurgeAsync();
                LogRoutesPurged(_logger, _siloKey, silo);
            }
#pragma warning disable CA1031 // Lookups skip dead silos anyway; the next death notice or silo retries the purge.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoutesPurgeFailed(_logger, e, _siloKey, silo);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} membership watch failed; retrying")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Silo} could not check pin '{Name}'")]
    private static partial void LogPinCheckFailed(ILogger logger, Exception exception, string silo, string name);

    [LoggerMessage(3, LogLevel.Information, "Silo {Silo} purged the routing-ID registrations of dead silo {DeadSilo}")]
    private static partial void LogRoutesPurged(ILogger logger, string silo, string deadSilo);

    [LoggerMessage(4, LogLevel.Warning, "Silo {Silo} could not purge the routing-ID registrations of dead silo {DeadSilo}")]
    private static partial void LogRoutesPurgeFailed(ILogger logger, Exception exception, string silo, string deadSilo);
}
