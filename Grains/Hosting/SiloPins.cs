using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The silo's share of the cluster's pins: the connections its <see cref="IPinnedConnectionGrain"/>s asked this silo to
/// keep up, by pin name. Pinning a name again with the same endpoint keeps the pin; another endpoint replaces it. Each
/// pin is held for its owner's digest (which only the pin grain, having checked the owner, knows): a request for the
/// name with another digest neither replaces nor removes it. Stopping unpins every one, so the connections can close
/// with the transport.
/// </summary>
internal sealed partial class SiloPins : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly ConcurrentDictionary<string, (PinRequest Request, string OwnerDigest, IPinnedConnection Pin)> _pins = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _pinLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SiloTransport _transport;
    private readonly ILogger _logger;
    private bool _leaving;

    public SiloPins(SiloTransport transport, ILogger<SiloPins> logger)
    {
        _transport = transport;
        _logger = logger;
    }

    /// <summary>True once the silo hands its pins over: it takes no new ones, so a pin grain places them elsewhere.</summary>
    public bool IsLeaving => Volatile.Read(ref _leaving);

    /// <summary>The names of the pins this silo holds.</summary>
    public IReadOnlyList<string> Names => _pins.Keys.ToArray();

    /// <summary>Every pin this silo holds.</summary>
    public IReadOnlyList<SiloPin> All => _pins.Select(p => Describe(p.Key, p.Value.Request, p.Value.Pin)).ToArray();

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloPins), SiloFlowStages.State, _ => Task.CompletedTask, StopAsync);
    }

    /// <summary>Refuses new pins from now on; the ones held stay until they are moved or the silo stops.</summary>
    public void BeginLeaving() => Volatile.Write(ref _leaving, true);

    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        foreach (var (_, _, pin) in _pins.Values)
        {
            pin.Unpin();
        }

        _pins.Clear();
    }

    /// <summary>
    /// Pins <paramref name="request"/> under <paramref name="name"/> for <paramref name="ownerDigest"/>, replacing a pin of
    /// that name and owner to another endpoint; a pin of that name held for another owner is <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public async Task<SiloPin> PinAsync(string name, PinRequest request, string ownerDigest, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(ownerDigest);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        await _pinLock.WaitAsync(both.Token);
        try
        {
            if (IsLeaving)
            {
                throw new FlowException(FlowErrorCode.Aborted, "The silo is leaving the cluster; it takes no new pins.");
            }

            if (_pins.TryGetValue(name, out var existing))
            {
                if (!DigestsMatch(existing.OwnerDigest, ownerDigest))
                {
                    throw new FlowException(FlowErrorCode.NotTrusted, $"Pin '{name}' belongs to another owner.");
                }

                if (existing.Request.Endpoint == request.Endpoint)
                {
                    return Describe(name, existing.Request, existing.Pin);
                }

                existing.Pin.Unpin();
                _pins.TryRemove(name, out _);
            }

            var pin = await _transport.PinForClientAsync(request, both.Token);
            _pins[name] = (request, ownerDigest, pin);
            LogPinned(_logger, _transport.SiloKey, name, request.Endpoint);
            return Describe(name, request, pin);
        }
        finally
        {
            _pinLock.Release();
        }
    }

    /// <summary>Unpins <paramref name="name"/> if it is held for <paramref name="ownerDigest"/>. Idempotent.</summary>
    public void Unpin(string name, string ownerDigest)
    {
        if (_pins.TryGetValue(name, out var held) && DigestsMatch(held.OwnerDigest, ownerDigest)
            && _pins.TryRemove(new KeyValuePair<string, (PinRequest, string, IPinnedConnection)>(name, held)))
        {
            var pin = held;
            pin.Pin.Unpin();
            LogUnpinned(_logger, _transport.SiloKey, name);
        }
    }

    /// <summary>The connection this silo keeps for pin <paramref name="name"/>, or null: tells one holding from the next.</summary>
    internal IPinnedConnection? Holding(string name) => _pins.TryGetValue(name, out var pin) ? pin.Pin : null;

    /// <summary>Unpins <paramref name="name"/> if this silo still keeps it with <paramref name="holding"/> (not a newer pin of the name).</summary>
    internal bool UnpinStray(string name, IPinnedConnection holding)
    {
        if (_pins.TryGetValue(name, out var held) && ReferenceEquals(held.Pin, holding)
            && _pins.TryRemove(new KeyValuePair<string, (PinRequest, string, IPinnedConnection)>(name, held)))
        {
            held.Pin.Unpin();
            LogUnpinned(_logger, _transport.SiloKey, name);
            return true;
        }

        return false;
    }

    /// <summary>The pin <paramref name="name"/> as this silo holds it, or null.</summary>
    public SiloPin? Get(string name) => _pins.TryGetValue(name, out var pin) ? Describe(name, pin.Request, pin.Pin) : null;

    public void Dispose()
    {
        _stopping.Dispose();
        _pinLock.Dispose();
    }

    private static bool DigestsMatch(string held, string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(held), Encoding.UTF8.GetBytes(presented));

    private static SiloPin Describe(string name, PinRequest request, IPinnedConnection pin) =>
        new(name, request.Endpoint, pin.Connection.RemoteEndpoint, pin.Reconnects, pin.Connection.Rtt);

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} pinned '{Name}' to {Endpoint}")]
    private static partial void LogPinned(ILogger logger, string silo, string name, Transport.Endpoints.Endpoint endpoint);

    [LoggerMessage(2, LogLevel.Information, "Silo {Silo} unpinned '{Name}'")]
    private static partial void LogUnpinned(ILogger logger, string silo, string name);
}
