using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Protocols;

/// <summary>Shared helpers: bounded waits, framed writes and reads, and traffic with verifiable content.</summary>
internal static class ProtocolTestSupport
{
    /// <summary>The limit for any single await in these tests: generous, so it only ever trips on a hang.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<T> Within<T>(ValueTask<T> operation) => operation.AsTask().WaitAsync(HangLimit, Ct);

    public static Task Within(ValueTask operation) => operation.AsTask().WaitAsync(HangLimit, Ct);

    public static Task Within(Task operation) => operation.WaitAsync(HangLimit, Ct);

    public static Task<T> Within<T>(Task<T> operation) => operation.WaitAsync(HangLimit, Ct);

    /// <summary>The length prefix of a frame of <paramref name="length"/> bytes, as it goes on the wire.</summary>
    public static byte[] Prefix(int length)
    {
        var prefix = new byte[FramingOptions.LengthPrefixSize];
        BinaryPrimitives.WriteInt32BigEndian(prefix, length);
        return prefix;
    }

    /// <summary>The wire bytes of <paramref name="payloads"/> sent as frames, one after another.</summary>
    public static byte[] Encode(params byte[][] payloads) =>
        [.. payloads.SelectMany(p => Prefix(p.Length).Concat(p))];

    public static async Task<FlowException> ThrowsFlowAsync(FlowErrorCode expected, Func<Task> operation)
    {
        FlowException e = await Assert.ThrowsAsync<FlowException>(operation);
        Assert.True(expected == e.Code, $"Expected {expected} but got {e.Code}: {e}");
        return e;
    }

    public static void WriteFrame(IFramedConnection connection, ReadOnlySpan<byte> payload)
    {
        Memory<byte> buffer = connection.GetFrameBuffer(payload.Length);
        Assert.Equal(payload.Length, buffer.Length);
        payload.CopyTo(buffer.Span);
        connection.CommitFrame();
    }

    public static async Task SendAsync(IFramedConnection connection, params byte[][] payloads)
    {
        foreach (byte[] payload in payloads)
        {
            WriteFrame(connection, payload);
        }

        await Within(connection.FlushAsync(Ct));
    }

    public static async Task<byte[]> ReceiveAsync(IFramedConnection connection)
    {
        FrameReadResult result = await Within(connection.ReadFrameAsync(Ct));
        Assert.False(result.IsCompleted, "Expected a frame but the stream ended.");
        return result.Payload.ToArray();
    }

    /// <summary>
    /// Frame sizes spanning the whole range: the edges (0, 1, max) and a spread skewed towards small sizes so a
    /// run stays fast while still crossing segment and pause-threshold boundaries.
    /// </summary>
    public static int[] FrameSizes(int seed, int count, int maxFrameSize)
    {
        var random = new Random(seed);
        var sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            sizes[i] = i switch
            {
                0 => 0,
                1 => maxFrameSize,
                2 => 1,
                _ => random.Next(0, (maxFrameSize >> random.Next(0, 12)) + 1),
            };
        }

        return sizes;
    }

    /// <summary>Writes frames of the given sizes with seeded random content, flushing at random points.</summary>
    public static async Task<byte[]> WriteTrafficAsync(IFramedConnection connection, int seed, int[] sizes)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (int size in sizes)
        {
            Memory<byte> buffer = connection.GetFrameBuffer(size);
            random.NextBytes(buffer.Span);
            hash.AppendData(buffer.Span);
            connection.CommitFrame();
            if (random.Next(4) == 0)
            {
                await Within(connection.FlushAsync(Ct));
            }
        }

        await Within(connection.FlushAsync(Ct));
        return hash.GetHashAndReset();
    }

    /// <summary>Reads exactly the frames of the given sizes and returns the checksum of their payloads.</summary>
    public static async Task<byte[]> ReadTrafficAsync(IFramedConnection connection, int[] sizes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < sizes.Length; i++)
        {
            FrameReadResult frame = await Within(connection.ReadFrameAsync(Ct));
            Assert.False(frame.IsCompleted, $"The stream ended before frame {i}.");
            Assert.True(sizes[i] == frame.Payload.Length, $"Frame {i}: expected {sizes[i]} bytes, got {frame.Payload.Length}.");
            foreach (ReadOnlyMemory<byte> segment in frame.Payload)
            {
                hash.AppendData(segment.Span);
            }
        }

        return hash.GetHashAndReset();
    }
}
