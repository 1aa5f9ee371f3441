using System.Diagnostics;
using FlowOrleans.Grains.Hosting;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// Watches which running silos hold each pin, as fast as it can, and adds up the time each pin had no holder: its
/// downtime as a peer of the pin sees it. A silo leaving is read first: a hand-over pins on the new silo before the
/// leaving one lets go, so reading the leaving silo first can never miss a pin that is in fact held.
/// </summary>
internal sealed class PinDowntimeSampler : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly List<(string Key, SiloPins Pins)> _holders = [];
    private readonly string[] _names;
    private readonly TimeSpan[] _down;
    private readonly TimeSpan[] _longest;
    private readonly TimeSpan[] _current;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private string? _leaving;
    private long _samples;

    public PinDowntimeSampler(IReadOnlyList<string> names, IEnumerable<(string Key, SiloPins Pins)> holders)
    {
        _names = names.ToArray();
        _down = new TimeSpan[_names.Length];
        _longest = new TimeSpan[_names.Length];
        _current = new TimeSpan[_names.Length];
        _holders.AddRange(holders);
        _loop = Task.Run(LoopAsync);
    }

    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Total time each pin had no holder.</summary>
    public IReadOnlyList<TimeSpan> Downtime { get { lock (_lock) { return _down.ToArray(); } } }

    /// <summary>The longest single stretch each pin had no holder.</summary>
    public IReadOnlyList<TimeSpan> LongestOutage { get { lock (_lock) { return _longest.ToArray(); } } }

    /// <summary>True if, at the last sample, every pin had a holder.</summary>
    public bool AllHeld { get; private set; }

    public void Add(string key, SiloPins pins)
    {
        lock (_lock)
        {
            _holders.Add((key, pins));
        }
    }

    /// <summary>The silo <paramref name="key"/> is about to leave: read it first from now on.</summary>
    public void Leaving(string key)
    {
        lock (_lock)
        {
            _leaving = key;
        }
    }

    /// <summary>The silo <paramref name="key"/> is gone (or killed): its pins no longer count.</summary>
    public void Remove(string key)
    {
        lock (_lock)
        {
            _holders.RemoveAll(h => h.Key == key);
            _leaving = _leaving == key ? null : _leaving;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var clock = Stopwatch.StartNew();
        var last = clock.Elapsed;
        while (!_stop.IsCancellationRequested)
        {
            (string Key, SiloPins Pins)[] holders;
            lock (_lock)
            {
                holders = _holders.OrderByDescending(h => h.Key == _leaving).ToArray();
            }

            var held = _names.Select(name => holders.Any(h => h.Pins.Get(name) is not null)).ToArray();
            var now = clock.Elapsed;
            lock (_lock)
            {
                for (var i = 0; i < _names.Length; i++)
                {
                    if (held[i])
                    {
                        _current[i] = TimeSpan.Zero;
                        continue;
                    }

                    // Counted from the previous sample, where it may still have been held: an upper bound.
                    _down[i] += now - last;
                    _current[i] += now - last;
                    _longest[i] = _current[i] > _longest[i] ? _current[i] : _longest[i];
                }
            }

            AllHeld = held.All(h => h);
            last = now;
            Interlocked.Increment(ref _samples);
            try
            {
                await Task.Delay(2, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
