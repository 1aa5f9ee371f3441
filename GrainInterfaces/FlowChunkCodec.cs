using System.Buffers;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Cloning;
using Orleans.Serialization.Codecs;
using Orleans.Serialization.WireProtocol;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Serialises a <see cref="FlowChunk"/> as length-prefixed bytes straight from the caller's memory, and reads it back into
/// a pooled array (see <see cref="FlowChunk"/>). A length beyond <see cref="FlowChunk.MaxPooledLength"/> is read into an
/// array of its own, as Orleans reads any byte array, within the message size Orleans already bounds.
/// </summary>
[RegisterSerializer]
internal sealed class FlowChunkCodec : IFieldCodec<FlowChunk>
{
    public void WriteField<TBufferWriter>(ref Writer<TBufferWriter> writer, uint fieldIdDelta, Type? expectedType, FlowChunk value)
        where TBufferWriter : IBufferWriter<byte>
    {
        ReferenceCodec.MarkValueField(writer.Session);
        writer.WriteFieldHeader(fieldIdDelta, expectedType, typeof(FlowChunk), WireType.LengthPrefixed);
        writer.WriteVarUInt32((uint)value.Bytes.Length);
        writer.Write(value.Bytes.Span);
    }

    public FlowChunk ReadValue<TInput>(ref Reader<TInput> reader, Field field)
    {
        ReferenceCodec.MarkValueField(reader.Session);
        field.EnsureWireType(WireType.LengthPrefixed);
        var length = reader.ReadVarUInt32();

        // Checked before renting, so a length the message does not hold rents nothing.
        reader.EnsureAvailable(length);
        var chunk = FlowChunk.Rent((int)length, out var fill);
        reader.ReadBytes(fill);
        return chunk;
    }
}

/// <summary>
/// Orleans' generated proxies deep-copy every argument on the caller's side, also before serialising a call to another
/// process, where a copy is pure cost: an extra pass over the bytes and, if pooled, an array nobody gives back. The
/// copy borrows the caller's memory instead and owns nothing, which the contract already allows (the caller keeps its
/// bytes unchanged until the call completes), and which makes a copy of a pooled chunk unable to release the
/// caller's array.
/// </summary>
[RegisterCopier]
internal sealed class FlowChunkCopier : IDeepCopier<FlowChunk>
{
    public FlowChunk DeepCopy(FlowChunk input, CopyContext context) => new(input.Bytes);
}
