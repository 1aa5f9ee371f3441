using System.Numerics;
using System.Runtime.InteropServices;
using FlowOrleans.GrainInterfaces;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A <see cref="FlowChunk"/> crosses a grain call with its bytes intact and arrives in a pooled array (the relay's write
/// path allocates nothing per chunk); a copy within a silo is the callee's own; a truncated message is refused.
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

    [Fact]
    public void ACopyWithinASiloKeepsTheBytesTheCallerHadWhenItCalled()
    {
        var bytes = RandomBytes(1000);
        var sent = bytes.ToArray();

        var copy = _services.GetRequiredService<DeepCopier>().Copy(new FlowChunk(bytes));
        bytes.AsSpan().Clear();

        Assert.Equal(sent, copy.Bytes.ToArray());
        copy.Release();
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
