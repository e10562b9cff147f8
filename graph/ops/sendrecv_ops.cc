// sendrecv_ops.cc - _Send and _Recv, the pair partitioning puts on a data or control edge that
// crosses devices (TensorFlow's op names and attrs). The pair meets in the step's rendezvous
// under a key built from send_device, send_device_incarnation, recv_device and tensor_name.
#include "graph/ops/all_ops.h"
#include "graph/ops/shape_fns.h"

namespace weir {

void RegisterSendRecvOps(OpRegistry& registry) {
  registry.Register(OpSpec("_Send")
                        .Input("tensor: T")
                        .Attr("T: type")
                        .Attr("tensor_name: string")
                        .Attr("send_device: string")
                        .Attr("send_device_incarnation: int")
                        .Attr("recv_device: string")
                        .Attr("client_terminated: bool = false")
                        .SetIsStateful());
  // The shape is the sent tensor's: partitioning copies it from the producer onto the _Recv.
  registry.Register(OpSpec("_Recv")
                        .Output("tensor: tensor_type")
                        .Attr("tensor_type: type")
                        .Attr("tensor_name: string")
                        .Attr("send_device: string")
                        .Attr("send_device_incarnation: int")
                        .Attr("recv_device: string")
                        .Attr("client_terminated: bool = false")
                        .SetShapeFn([](ShapeContext* ctx) {
                          ctx->set_output(0, PartialShape::Unknown());
                          return absl::OkStatus();
                        })
                        .SetIsStateful());
}

}  // namespace weir
