using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Lets go of pins this silo holds that their grains record on another silo (or no longer record at all). A pin grain
/// that asked this silo to pin and never heard back (a response timeout while the cluster failed over, its own silo
/// cut off) tries the next silo and records that one; this silo, which did pin, would otherwise keep a second
/// connection for the pin forever, since pin grains check only the silo they record. Found by the chaos test: after a
/// partition healed, five of 200 pins were held by two silos for good. The grain's record is the truth; a pin found
/// stray on two sweeps in a row (the same holding both times) is unpinned, so a pin caught between being placed here
/// and being recorded is left alone.
/// </summary>
internal sealed partial class StrayPinSweep : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly SiloPins _pins;
    private readonly IGrainFactory _grains;
    private readonly FlowOrleansOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _siloKey;
    private readonly BackgroundWork _work = new();
    private Dictionary<string, IPinnedConnection> _suspects = new(StringComparer.Ordinal);

    public StrayPinSweep(SiloPins pins, IGrainFactory grains, IOptions<FlowOrleansOptions> options, ILocalSiloDetails siloDetails, TimeProvider time, ILogger<StrayPinSweep> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(siloDetails);
        _pins = pins;
        _grains = grains;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _siloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(StrayPinSweep), SiloFlowStages.Loops, Start, _work.StopAsync);
    }

    public void Dispose() => _work.Dispose();

    private Task Start(CancellationToken cancellationToken)
    {
        _work.RunEvery(_options.StrayPinSweepPeriod, _time, SweepAsync);
        return Task.CompletedTask;
    }

    /// <summary>One sweep: returns how many stray pins it unpinned.</summary>
    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var suspects = new Dictionary<string, IPinnedConnection>(StringComparer.Ordinal);
        var unpinned = 0;
        foreach (var name in _pins.Names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_pins.Holding(name) is not { } holding)
            {
                continue;
            }

            PinState? record;
            try
            {
                record = await _grains.GetGrain<IPinnedConnectionGrain>(name).GetAsync().WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // The grain cannot say now (its silo is failing over): ask again next sweep, without suspicion.
                LogCheckFailed(_logger, e, _siloKey, name);
                continue;
            }

            if (record is not null && (record.OwnerSilo is null || record.OwnerSilo == _siloKey))
            {
                continue;
            }

            if (_suspects.TryGetValue(name, out var seen) && ReferenceEquals(seen, holding))
            {
                if (_pins.UnpinStray(name, holding))
                {
                    unpinned++;
                    LogStrayUnpinned(_logger, _siloKey, name, record?.OwnerSilo ?? "nobody");
                }
            }
            else
            {
                suspects[name] = holding;
            }
        }

        _suspects = suspects;
        return unpinned;
    }

    [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} let go of pin '{Name}': its grain records it on {Owner}")]
    private static partial void LogStrayUnpinned(ILogger logger, string silo, string name, string owner);

    [LoggerMessage(2, LogLevel.Debug, "Silo {Silo} could not check pin '{Name}' against its grain")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string silo, string name);
}
