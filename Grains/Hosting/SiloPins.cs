using System.Collections.Concurrent;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The silo's share of the cluster's pins: the connections its <see cref="IPinnedConnectionGrain"/>s asked this silo to
/// keep up, by pin name. Pinning a name again with the same endpoint keeps the pin; another endpoint replaces it.
/// Stopping unpins every one, so the connections can close with the transport.
/// </summary>
internal sealed partial class SiloPins : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly ConcurrentDictionary<string, (PinRequest Request, IPinnedConnection Pin)> _pins = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _pinLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SiloTransport _transport;
    private readonly ILogger _logger;

    public SiloPins(SiloTransport transport, ILogger<SiloPins> logger)
    {
        _transport = transport;
        _logger = logger;
    }

    /// <summary>Every pin this silo holds.</summary>
    public IReadOnlyList<SiloPin> All => _pins.Select(p => Describe(p.Key, p.Value.Request, p.Value.Pin)).ToArray();

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloPins), SiloFlowStages.State, _ => Task.CompletedTask, StopAsync);
    }

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        foreach (var (_, pin) in _pins.Values)
        {
            pin.Unpin();
        }

        _pins.Clear();
    }

    /// <summary>Pins <paramref name="request"/> under <paramref name="name"/>, replacing a pin of that name to another endpoint.</summary>
    public async Task<SiloPin> PinAsync(string name, PinRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(request);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        await _pinLock.WaitAsync(both.Token);
        try
        {
            if (_pins.TryGetValue(name, out var existing))
            {
                if (existing.Request.Endpoint == request.Endpoint)
                {
                    return Describe(name, existing.Request, existing.Pin);
                }

                existing.Pin.Unpin();
                _pins.TryRemove(name, out _);
            }

            var authorizer = _transport.AuthorizerFor(request.BlessingPatterns);
            var pin = await _transport.Manager.PinConnectionAsync(request.Endpoint, authorizer, request.ChannelTimeout, both.Token);
            _pins[name] = (request, pin);
            LogPinned(_logger, _transport.SiloKey, name, request.Endpoint);
            return Describe(name, request, pin);
        }
        finally
        {
            _pinLock.Release();
        }
    }

    /// <summary>Unpins <paramref name="name"/>. Idempotent.</summary>
    public void Unpin(string name)
    {
        if (_pins.TryRemove(name, out var pin))
        {
            pin.Pin.Unpin();
            LogUnpinned(_logger, _transport.SiloKey, name);
        }
    }

    /// <summary>The pin <paramref name="name"/> as this silo holds it, or null.</summary>
    public SiloPin? Get(string name) => _pins.TryGetValue(name, out var pin) ? Describe(name, pin.Request, pin.Pin) : null;

    public void Dispose()
    {
        _stopping.Dispose();
        _pinLock.Dispose();
    }

    private static SiloPin Describe(string name, PinRequest request, IPinnedConnection pin) =>
        new(name, request.Endpoint, pin.Connection.RemoteEndpoint, pin.Reconnects, pin.Connection.Rtt);

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} pinned '{Name}' to {Endpoint}")]
    private static partial void LogPinned(ILogger logger, string silo, string name, Transport.Endpoints.Endpoint endpoint);

    [LoggerMessage(2, LogLevel.Information, "Silo {Silo} unpinned '{Name}'")]
    private static partial void LogUnpinned(ILogger logger, string silo, string name);
}
