using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using FlowOrleans.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A <see cref="FlowChunk"/> crosses a grain call with its bytes intact and arrives in a pooled array (the relay's write
/// path allocates nothing per chunk); a copy borrows the caller's bytes and owns none of them; a truncated message is
/// refused.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowChunkTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private Serializer Serializer => _services.GetRequiredService<Serializer>();

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(64 * 1024)]
    public void AChunkArrivesWhole(int length)
    {
        var bytes = RandomBytes(length);

        var chunk = Serializer.Deserialize<FlowChunk>(Serializer.SerializeToArray(new FlowChunk(bytes)));

        Assert.Equal(bytes, chunk.Bytes.ToArray());
        // Pooled arrays come in powers of two: an array of exactly the length (the serialiser's own) is not one.
        Assert.True(MemoryMarshal.TryGetArray(chunk.Bytes, out var segment));
        Assert.Equal((int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 16)), segment.Array!.Length);
        chunk.Release();
    }

    [Fact]
    public void AnEmptyChunkArrivesEmpty()
    {
        var chunk = Serializer.Deserialize<FlowChunk>(Serializer.SerializeToArray(new FlowChunk(ReadOnlyMemory<byte>.Empty)));

        Assert.True(chunk.Bytes.IsEmpty);
        chunk.Release();
    }

    [Fact]
    public void AChunkLargerThanThePooledSizeArrivesWholeInAnArrayOfItsOwn()
    {
        var bytes = RandomBytes((64 * 1024) + 1);

        var chunk = Serializer.Deserialize<FlowChunk>(Serializer.SerializeToArray(new FlowChunk(bytes)));

        Assert.Equal(bytes, chunk.Bytes.ToArray());
        chunk.Release();
    }

    // Orleans' proxies copy each argument before sending it, also to another process; a copy that copied the bytes
    // (into a pooled array nobody released) cost the relay an allocation per byte it carried.
    [Fact]
    public void ACopyBorrowsTheCallersBytes()
    {
        var bytes = RandomBytes(1000);

        var copy = _services.GetRequiredService<DeepCopier>().Copy(new FlowChunk(bytes.AsMemory(10, 500)));

        Assert.True(MemoryMarshal.TryGetArray(copy.Bytes, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(10, segment.Offset);
        Assert.Equal(500, segment.Count);
    }

    [Fact]
    public void ReleasingACopyOfAPooledChunkLeavesTheCallersArrayWithTheCaller()
    {
        var received = Serializer.Deserialize<FlowChunk>(Serializer.SerializeToArray(new FlowChunk(RandomBytes(4096))));
        Assert.True(MemoryMarshal.TryGetArray(received.Bytes, out var segment));

        _services.GetRequiredService<DeepCopier>().Copy(received).Release();

        // A release would have put the array in this thread's slot of the pool, where the next rent finds it first.
        var next = ArrayPool<byte>.Shared.Rent(segment.Array!.Length);
        Assert.NotSame(segment.Array, next);
        ArrayPool<byte>.Shared.Return(next);
        received.Release();
    }

    [Fact]
    public void AMessageShorterThanTheChunkItDeclaresIsRefused()
    {
        var message = Serializer.SerializeToArray(new FlowChunk(RandomBytes(1000)));

        Assert.ThrowsAny<Exception>(() => Serializer.Deserialize<FlowChunk>(message.AsMemory(0, 500).ToArray()));
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    public void Dispose() => _services.Dispose();
}
