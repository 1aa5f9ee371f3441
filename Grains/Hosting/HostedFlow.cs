using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// A flow a silo holds for a remote caller. A pump reads the flow, one message a chunk (so callers can keep the remote's
/// message boundaries), into a small bounded channel; the caller drains the channel by grain response streaming. The pump stops reading while the channel is full, so the flow withholds
/// credit from the remote peer and a slow caller costs the silo at most <c>ReadAheadChunks</c> chunks.
/// The flow's capability is made with it and handed only to whoever claims it; every use must present it.
/// Every use renews the flow's lease; the host closes flows whose lease ran out and that have no reader waiting
/// (Orleans ends the enumeration of a caller that stopped polling, which ends the reading).
/// </summary>
internal sealed class HostedFlow : IAsyncDisposable
{
    private readonly IFlow _flow;
    private readonly Channel<byte[]> _inbound;
    private readonly int _chunkSize;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TimeProvider _time;
    private Task _pump = Task.CompletedTask;
    private long _lastUsed;
    private int _claimed;
    private int _reading;
    private int _disposed;

    public HostedFlow(IFlow flow, FlowHandle handle, FlowOrleansOptions options, TimeProvider time)
    {
        _flow = flow;
        _time = time;
        _lastUsed = time.GetTimestamp();
        Handle = handle;
        _chunkSize = options.ReadChunkSize;
        _inbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.ReadAheadChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public FlowHandle Handle { get; }

    /// <summary>What the claimer of this flow presents to use it.</summary>
    public Capability Capability { get; } = Capability.NewRandom();

    public bool IsClaimed => Volatile.Read(ref _claimed) != 0;

    /// <summary>Claimed, no reader waiting, and unused for longer than <paramref name="lease"/>.</summary>
    public bool IsLeaseExpired(TimeSpan lease) =>
        IsClaimed && Volatile.Read(ref _reading) == 0 && _time.GetElapsedTime(Interlocked.Read(ref _lastUsed)) > lease;

    /// <summary>Renews the lease.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastUsed, _time.GetTimestamp());

    /// <summary>Bytes waiting in the read-ahead channel; for tests of the memory bound.</summary>
    public int BufferedChunks => _inbound.Reader.Count;

    /// <summary>Starts reading the flow; called once the flow has an owner so unclaimed flows hold no read-ahead.</summary>
    public bool TryClaim()
    {
        if (Interlocked.Exchange(ref _claimed, 1) != 0)
        {
            return false;
        }

        Touch();
        _pump = Task.Run(PumpAsync);
        return true;
    }

    public async IAsyncEnumerable<byte[]> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Two readers would interleave chunks; refuse the second instead of corrupting both.
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new FlowException(FlowErrorCode.BadState, $"Flow {Handle.FlowId} already has a reader.");
        }

        try
        {
            while (await _inbound.Reader.WaitToReadAsync(cancellationToken))
            {
                while (_inbound.Reader.TryRead(out var chunk))
                {
                    Touch();
                    yield return chunk;
                }
            }
        }
        finally
        {
            Touch();
            Volatile.Write(ref _reading, 0);
        }
    }

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        AsWriterAsync((flow, token) => flow.WriteAsync(data, token), cancellationToken);

    public async Task<int> WriteMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var written = 0;
        await AsWriterAsync(async (flow, token) => written = await flow.WriteMessageAsync([message], token), cancellationToken);
        return written;
    }

    /// <summary>Later messages go out as one frame each (the Transport's <c>DisableFragmentation</c>).</summary>
    public void DisableFragmentation()
    {
        Touch();
        _flow.DisableFragmentation();
    }

    public Task CloseWriteAsync(CancellationToken cancellationToken) =>
        AsWriterAsync(static (flow, token) => flow.CloseWriteAsync(token), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _flow.DisposeAsync();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
        }

        // The token source stays undisposed: late grain calls racing this close must see cancellation, not ObjectDisposedException.
        _inbound.Writer.TryComplete(Closed());
    }

    /// <summary>
    /// Runs one operation on the flow's write side. Calls may interleave on the reentrant grain, so the flow takes one
    /// writer at a time; the caller's token and the flow's close both cancel; the use renews the lease.
    /// </summary>
    private async Task AsWriterAsync(Func<IFlow, CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        Touch();
        using var both = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken) : null;
        var token = both?.Token ?? _stop.Token;
        var locked = false;
        try
        {
            await _writeLock.WaitAsync(token);
            locked = true;
            await operation(_flow, token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The flow closed under the call (the silo stopping, the lease running out): the caller hears that, not a
            // cancellation it never asked for.
            throw Closed();
        }
        finally
        {
            if (locked)
            {
                _writeLock.Release();
            }

            Touch();
        }
    }

    private FlowException Closed() => new(FlowErrorCode.Aborted, $"Flow {Handle.FlowId} was closed.");

    private async Task PumpAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_chunkSize);
        try
        {
            while (true)
            {
                // One message a chunk, so a caller reading messages gets the remote's boundaries; a message is at most one
                // frame (64 KiB), so the read-ahead stays bounded even when it exceeds the buffer and comes in its own array.
                var message = await _flow.ReadMessageAsync(buffer.AsMemory(0, _chunkSize), _stop.Token);
                if (message is not { } received)
                {
                    _inbound.Writer.TryComplete();
                    return;
                }

                await _inbound.Writer.WriteAsync(received.ToArray(), _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _inbound.Writer.TryComplete(new FlowException(FlowErrorCode.Aborted, $"Flow {Handle.FlowId} was closed."));
        }
        catch (FlowException e)
        {
            _inbound.Writer.TryComplete(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
