using System.Buffers;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>One of the two real parties of a handshake.</summary>
internal enum Side
{
    Dialer,
    Acceptor,
}

/// <summary>
/// The wire between a dialer and an acceptor, held by an attacker: every frame either side sends comes to the attacker
/// first and reaches the other side only if the attacker sends it on, changed or not. Each side's connection is an
/// in-memory framed connection whose far end belongs to the link (a side the attack plays itself has none).
/// </summary>
internal sealed class AttackLink : IAsyncDisposable
{
    /// <summary>What the attacker does with the frame number <c>index</c> that <c>from</c> sent: where each resulting frame goes.</summary>
    public delegate IEnumerable<(Side To, byte[] Frame)> Tamper(Side from, int index, byte[] frame);

    private readonly IFramedConnection?[] _wires = new IFramedConnection?[2];
    private readonly SemaphoreSlim[] _writeLocks = [new(1, 1), new(1, 1)];
    private readonly List<byte[]>[] _received = [[], []];
    private readonly bool[] _closed = new bool[2];

    // A frame's payload is the wire's own memory until the next read or disposal: it is copied under this lock, and a
    // wire is marked closed under it before it is disposed, since one direction's pump may close a wire the other reads.
    private readonly Lock[] _readGates = [new(), new()];

    public AttackLink(IFramedConnection? toDialer, IFramedConnection? toAcceptor)
    {
        _wires[(int)Side.Dialer] = toDialer;
        _wires[(int)Side.Acceptor] = toAcceptor;
    }

    public static Side Other(Side side) => side == Side.Dialer ? Side.Acceptor : Side.Dialer;

    /// <summary>Whether the side is a real one (the attack does not play it).</summary>
    public bool IsReal(Side side) => _wires[(int)side] is not null;

    /// <summary>Every frame <paramref name="from"/> sent so far, in order.</summary>
    public IReadOnlyList<byte[]> Received(Side from)
    {
        lock (_received[(int)from])
        {
            return [.. _received[(int)from]];
        }
    }

    /// <summary>The next frame <paramref name="from"/> sent, or null once it closed or failed its connection.</summary>
    public async Task<byte[]?> ReceiveAsync(Side from, CancellationToken cancellationToken)
    {
        var wire = Wire(from);
        try
        {
            var frame = await wire.ReadFrameAsync(cancellationToken);
            byte[] bytes;
            lock (_readGates[(int)from])
            {
                if (frame.IsCompleted || _closed[(int)from])
                {
                    return null;
                }

                bytes = frame.Payload.ToArray();
            }

            lock (_received[(int)from])
            {
                _received[(int)from].Add(bytes);
            }

            return bytes;
        }
        catch (FlowException)
        {
            return null;
        }
    }

    /// <summary>Delivers <paramref name="frame"/> to <paramref name="to"/>; a side that is gone just does not get it.</summary>
    public async Task SendAsync(Side to, byte[] frame, CancellationToken cancellationToken)
    {
        var gate = _writeLocks[(int)to];
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_closed[(int)to])
            {
                return;
            }

            var wire = Wire(to);
            frame.CopyTo(wire.GetFrameBuffer(frame.Length));
            wire.CommitFrame();
            await wire.FlushAsync(cancellationToken);
        }
        catch (FlowException)
        {
            // The side closed its connection: what it would have read does not matter any more.
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Ends the connection to <paramref name="to"/>: after the frames already sent, it reads the end of the stream.</summary>
    public async Task CloseAsync(Side to)
    {
        var gate = _writeLocks[(int)to];
        await gate.WaitAsync();
        try
        {
            if (!_closed[(int)to] && _wires[(int)to] is { } wire)
            {
                lock (_readGates[(int)to])
                {
                    _closed[(int)to] = true;
                }

                await wire.DisposeAsync();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Forwards frames both ways until both sides are done, each through <paramref name="tamper"/> (none: unchanged);
    /// a side that ends its connection has the other side's connection ended after what it sent was delivered.
    /// </summary>
    public Task RelayAsync(CancellationToken cancellationToken, Tamper? tamper = null) =>
        Task.WhenAll(PumpAsync(Side.Dialer, tamper, cancellationToken), PumpAsync(Side.Acceptor, tamper, cancellationToken));

    public async ValueTask DisposeAsync()
    {
        await CloseAsync(Side.Dialer);
        await CloseAsync(Side.Acceptor);
        _writeLocks[0].Dispose();
        _writeLocks[1].Dispose();
    }

    private async Task PumpAsync(Side from, Tamper? tamper, CancellationToken cancellationToken)
    {
        for (var index = 0; ; index++)
        {
            var frame = await ReceiveAsync(from, cancellationToken);
            if (frame is null)
            {
                await CloseAsync(Other(from));
                return;
            }

            foreach (var (to, bytes) in tamper?.Invoke(from, index, frame) ?? [(Other(from), frame)])
            {
                await SendAsync(to, bytes, cancellationToken);
            }
        }
    }

    private IFramedConnection Wire(Side side) =>
        _wires[(int)side] ?? throw new InvalidOperationException($"The attack plays the {side} itself: there is no wire to it.");
}
