using System.Diagnostics;
using FlowOrleans.GrainInterfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// A silo's graceful leave (a host stop, SIGTERM as Kubernetes sends it): before Orleans takes the silo out of the
/// cluster, its flow manager stops listening and puts its connections into lame duck, so peers dial elsewhere, and
/// each pin it holds is moved by its pin grain to another live silo, waiting (within
/// <see cref="FlowOrleansOptions.HandoverTimeout"/>) until that silo holds it. Without this the pins would move only
/// once membership declared the silo dead, after their connections had already closed. Pins it could not hand over in
/// time move that way still.
/// </summary>
internal sealed partial class PinHandover : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly SiloTransport _transport;
    private readonly SiloPins _pins;
    private readonly IGrainFactory _grains;
    private readonly FlowOrleansOptions _options;
    private readonly ILogger _logger;

    public PinHandover(SiloTransport transport, SiloPins pins, IGrainFactory grains, IOptions<FlowOrleansOptions> options, ILogger<PinHandover> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _transport = transport;
        _pins = pins;
        _grains = grains;
        _options = options.Value;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(PinHandover), SiloFlowStages.Handover, _ => Task.CompletedTask, StopAsync);
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_options.HandoverTimeout);
        var clock = Stopwatch.StartNew();
        _pins.BeginLeaving();
        try
        {
            await _transport.StopListeningAsync(bounded.Token);
        }
#pragma warning disable CA1031 // Lame duck is a courtesy to peers; the pins must still be handed over without it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogLameDuckFailed(_logger, e, _transport.SiloKey);
        }

        var names = _pins.Names;
        var moved = await Task.WhenAll(names.Select(name => MoveAsync(name, bounded.Token)));
        LogHandedOver(_logger, _transport.SiloKey, moved.Count(m => m), names.Count, clock.ElapsedMilliseconds);
    }

    /// <summary>True once another silo holds <paramref name="name"/>.</summary>
    private async Task<bool> MoveAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var state = await _grains.GetGrain<IPinnedConnectionGrain>(name).MoveOffAsync(_transport.SiloKey).WaitAsync(cancellationToken);
            return state is null || (state.Status == PinStatus.Pinned && state.OwnerSilo != _transport.SiloKey);
        }
#pragma warning disable CA1031 // One pin failing to move must not hold up the others; membership moves it after the silo left.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogMoveFailed(_logger, e, _transport.SiloKey, name);
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Silo {Silo} could not put its connections into lame duck before leaving")]
    private static partial void LogLameDuckFailed(ILogger logger, Exception exception, string silo);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Silo} could not hand pin '{Name}' over before leaving")]
    private static partial void LogMoveFailed(ILogger logger, Exception exception, string silo, string name);

    [LoggerMessage(3, LogLevel.Information, "Silo {Silo} handed {Moved} of {Pins} pins to other silos in {Milliseconds} ms before leaving")]
    private static partial void LogHandedOver(ILogger logger, string silo, int moved, int pins, long milliseconds);
}
